//! The harness's own pieces, tested alone: the simulator's clock and ids,
//! its multipart reader, and the panel's form-to-config mapping.

mod clock {
    use host_test::sim::clock::*;

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(EPOCH_START), "2026-01-15T10:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn ids_are_unique() {
        let ids: std::collections::BTreeSet<_> = (0..1000).map(|n| uuid(1, n)).collect();
        assert_eq!(ids.len(), 1000);
    }
}

mod multipart {
    use host_test::sim::multipart::*;

    #[test]
    fn reads_fields_and_files() {
        let body = b"--xyz\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--x\r\n--xyz--\r\n";
        let parts = parse("multipart/form-data; boundary=xyz", body).expect("parsed");
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].name.as_str(), parts[0].body.as_slice()), ("note", &b"hello"[..]));
        assert_eq!(parts[1].filename.as_deref(), Some("a.pdf"));
        assert_eq!(parts[1].content_type, "application/pdf");
        assert_eq!(parts[1].body, b"%PDF\r\n--x");
        assert!(parse("application/json", body).is_err());
        assert!(parse("multipart/form-data; boundary=other", body).is_err());
    }
}

mod panel {
    use host_test::panel::*;
    use host_test::runtime::{Auth, BasicAuth, Oauth2Client};
    use serde_json::{json, Value};

    #[test]
    fn the_auth_kinds_wit_template_makes_the_auth_case() {
        let manifest: Value = serde_json::from_str(host_test::manifest_text::CONNECTOR_JSON).expect("JSON");
        let form = |kind: &str, fields: Value| {
            json!({"api_type": "disputes", "environment": "playground", "region": "eu", "auth_kind": kind,
                "fields": fields, "settings": {"subdomain": "login", "order_id": ""}})
        };
        let key = connection_config(&manifest, &form("api_key", json!({"api_key": "klarna_test_api_x"}))).expect("ok");
        assert_eq!(key.auth, Auth::Basic(BasicAuth { username: String::new(), password: "klarna_test_api_x".into() }));
        assert_eq!(key.settings, vec![("subdomain".to_string(), "login".to_string())], "empty settings left out");
        let oauth = form("oauth2", json!({"client_id": "c", "client_secret": "s", "scopes": "a  b"}));
        let oauth = connection_config(&manifest, &oauth).expect("ok");
        let scopes = vec!["a".to_string(), "b".to_string()];
        assert_eq!(oauth.auth, Auth::Oauth2(Oauth2Client { client_id: "c".into(), client_secret: "s".into(), scopes }));
        let token = connection_config(&manifest, &form("token", json!({"token": "t"}))).expect("ok");
        assert_eq!(token.auth, Auth::Token("t".into()));
        assert!(connection_config(&manifest, &form("nope", json!({}))).is_err());
    }
}

mod strip {
    use wasmparser::{Parser, Payload};

    /// The top-level sections of a component: custom ones by name, the
    /// others by id, each with its size.
    fn sections(component: &[u8]) -> Vec<(String, usize)> {
        let mut found = Vec::new();
        let mut depth = 0;
        for payload in Parser::new(0).parse_all(component) {
            let payload = payload.expect("a component");
            match &payload {
                Payload::Version { .. } => depth += 1,
                Payload::End(_) => depth -= 1,
                _ if depth != 1 => {}
                Payload::ModuleSection { unchecked_range, .. } | Payload::ComponentSection { unchecked_range, .. } => {
                    found.push(("nested".to_string(), (unchecked_range.end - unchecked_range.start) as usize));
                }
                Payload::CustomSection(custom) => found.push((custom.name().to_string(), custom.data().len())),
                _ => {
                    if let Some((id, range)) = payload.as_section() {
                        found.push((format!("section {id}"), (range.end - range.start) as usize));
                    }
                }
            }
        }
        found
    }

    /// `./x dist` strips the file it ships; stripping the release build
    /// drops its component-name section and nothing else.
    #[test]
    fn drops_the_names_and_nothing_else() {
        let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/klarna_connector.opt.wasm");
        let shipped = std::fs::read(shipped).expect("the component to ship (./x dist)");
        assert!(
            !sections(&shipped).iter().any(|(name, _)| name == "component-name"),
            "the shipped file still has its component-name section"
        );
        let release = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/wasm32-wasip2/release/klarna_connector.wasm");
        let release = std::fs::read(release).expect("the release build (./x build)");
        let before = sections(&release);
        assert!(before.iter().any(|(name, _)| name == "component-name"), "wasm-component-ld wrote no names");
        let stripped = host_test::strip::strip(&release).expect("stripped");
        let expected: Vec<_> = before.into_iter().filter(|(name, _)| name != "component-name").collect();
        assert_eq!(sections(&stripped), expected);
        assert_eq!(host_test::strip::strip(&stripped).expect("stripped again"), stripped);
        assert!(host_test::strip::strip(&release[..release.len() - 1]).is_err(), "a cut file");
    }
}
