//! Every auth kind end to end, `test()` per API type with reasons a person
//! can act on, and secrets that never leave the component.

use crate::common::Harness;
use host_test::runtime::{Auth, BasicAuth, ConnectionConfig, ConnectorError, IncomingRequest, Method, Oauth2Client};
use host_test::sim::{self, Fault, SimResponse};

/// `api_type` with `auth`, and the settings it requires (the shipping assistant's public URL).
fn with_auth(api_type: &str, auth: Auth) -> ConnectionConfig {
    let settings = if api_type == "shipping-assistant" {
        crate::common::pairs(&[("public_url", crate::common::MOUNT)])
    } else {
        vec![]
    };
    ConnectionConfig { auth, settings, ..crate::common::config(api_type) }
}

fn api_key(key: &str) -> Auth {
    Auth::Basic(BasicAuth { username: String::new(), password: key.into() })
}

fn oauth2(secret: &str) -> Auth {
    Auth::Oauth2(Oauth2Client {
        client_id: sim::CLIENT_ID.into(),
        client_secret: secret.into(),
        scopes: vec!["payments:read".into()],
    })
}

fn authorization_headers(h: &Harness) -> Vec<String> {
    h.sim
        .received()
        .iter()
        .filter_map(|r| r.headers.iter().find(|(k, _)| k == "Authorization").map(|(_, v)| v.clone()))
        .collect()
}

#[test]
fn an_api_key_is_sent_as_klarna_documents_it() {
    let mut h = Harness::new();
    let st = h.try_open(&with_auth("settlements", api_key(sim::API_KEY))).expect("open");
    assert_eq!(h.instance.test(st).expect("no trap"), Ok(()));
    assert_eq!(h.subscribe(st, "payouts", &[], &[], None, Some(2)).expect("page").records.len(), 2);
    assert_eq!(authorization_headers(&h), vec![format!("Basic {}", sim::API_KEY); 2]);
    // A username/password client: the key's UUID as username, the key as password.
    let uuid = Auth::Basic(BasicAuth { username: sim::API_KEY_UUID.into(), password: sim::API_KEY.into() });
    let st = h.try_open(&with_auth("settlements", uuid)).expect("open");
    assert_eq!(h.instance.test(st).expect("no trap"), Ok(()));
}

#[test]
fn a_key_for_the_other_environment_is_refused_before_sending() {
    let mut h = Harness::new();
    match h.try_open(&with_auth("settlements", api_key("klarna_live_api_abc123"))) {
        Err(ConnectorError::InvalidConfig(m)) => {
            assert!(m.starts_with("environment: a live API key (klarna_live_api_…) only works on production"), "{m}")
        }
        other => panic!("expected invalid-config, got {other:?}"),
    }
    let mut production = with_auth("settlements", api_key(sim::API_KEY));
    production.environment = "production".into();
    match h.try_open(&production) {
        Err(ConnectorError::InvalidConfig(m)) => assert!(m.contains("test API key") && m.contains("playground"), "{m}"),
        other => panic!("expected invalid-config, got {other:?}"),
    }
    assert!(h.sim.received().is_empty());
}

#[test]
fn oauth2_tokens_are_fetched_cached_and_refreshed_once_on_401() {
    let mut h = Harness::new();
    let disputes = h.try_open(&with_auth("disputes", oauth2(sim::CLIENT_SECRET))).expect("open");
    assert_eq!(h.instance.test(disputes).expect("no trap"), Ok(()));
    assert_eq!(h.instance.test(disputes).expect("no trap"), Ok(()));
    let token_requests = |h: &Harness| {
        h.sim
            .received()
            .iter()
            .filter(|r| r.url.starts_with("https://login.playground.klarna.com/oauth2/token"))
            .count()
    };
    assert_eq!(token_requests(&h), 1, "the token is cached");
    let token_request = h.sim.received().into_iter().find(|r| r.url.contains("/oauth2/token")).expect("token request");
    assert_eq!(String::from_utf8_lossy(&token_request.body), "grant_type=client_credentials&scope=payments%3Aread");
    let bearer = authorization_headers(&h).last().cloned().unwrap_or_default();
    assert!(bearer.starts_with("Bearer sim-at-"), "{bearer}");

    h.sim.revoke_access_tokens();
    assert_eq!(h.instance.test(disputes).expect("no trap"), Ok(()), "a 401 fetches a new token and retries once");
    assert_eq!(token_requests(&h), 2);
}

#[test]
fn token_endpoint_failures_are_typed() {
    let mut h = Harness::new();
    let wrong = h.try_open(&with_auth("disputes", oauth2("not-the-secret"))).expect("open");
    match h.instance.test(wrong).expect("no trap") {
        Err(ConnectorError::Unauthorized(e)) => {
            assert_eq!((e.status, e.code.as_deref()), (401, Some("invalid_client")));
            assert!(e.messages.iter().any(|m| m.contains("refused the client credentials")), "{:?}", e.messages);
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
    let mut config = with_auth("disputes", oauth2(sim::CLIENT_SECRET));
    config.settings = crate::common::pairs(&[("max_attempts", "1")]);
    let down = h.try_open(&config).expect("open");
    h.sim.inject([Fault::ServiceUnavailable]);
    assert!(matches!(h.instance.test(down).expect("no trap"), Err(ConnectorError::Unavailable(_))));
    h.sim.inject([Fault::Answer(SimResponse::json(200, &serde_json::json!({"token_type": "Bearer"})))]);
    match h.instance.test(down).expect("no trap") {
        Err(ConnectorError::Unexpected(e)) => {
            assert!(e.messages[0].contains("without an access_token"), "{:?}", e.messages)
        }
        other => panic!("expected unexpected (retrying will not help), got {other:?}"),
    }
    // A custom subdomain selects another token host, which the host's allow-list refuses.
    let mut custom = with_auth("disputes", oauth2(sim::CLIENT_SECRET));
    custom.settings = crate::common::pairs(&[("subdomain", "partner-x")]);
    let elsewhere = h.try_open(&custom).expect("open");
    match h.instance.test(elsewhere).expect("no trap") {
        Err(ConnectorError::Transport(m)) => {
            assert!(m.contains("partner-x.playground.klarna.com") && m.contains("allow-list"), "{m}")
        }
        other => panic!("expected transport, got {other:?}"),
    }
}

#[test]
fn test_probes_every_api_type() {
    let mut h = Harness::new();
    let cases = [
        ("purchase", api_key(sim::API_KEY)),
        ("post-purchase", api_key(sim::API_KEY)),
        ("settlements", api_key(sim::API_KEY)),
        ("disputes", api_key(sim::API_KEY)),
        ("disputes", oauth2(sim::CLIENT_SECRET)),
        ("shipping-assistant", Auth::Token(sim::SHIPPING_TOKEN.into())),
        ("shipping-assistant", Auth::Basic(BasicAuth { username: "tms-1".into(), password: "tms-key".into() })),
        ("network", api_key(sim::API_KEY)),
    ];
    for (api_type, auth) in cases {
        let connection = h.try_open(&with_auth(api_type, auth)).expect("open");
        let sent = h.sim.received().len();
        assert_eq!(h.instance.test(connection).expect("no trap"), Ok(()), "{api_type}");
        let said =
            h.instance.logs().iter().rev().find(|l| l.message.starts_with("test passed")).map(|l| l.message.clone());
        // The shipping assistant calls nothing at Klarna: its test says so, and what it checked instead.
        let (what, calls) =
            if api_type == "shipping-assistant" { ("calls nothing at Klarna", 0) } else { ("(playground, eu)", 1) };
        assert!(said.as_deref().is_some_and(|m| m.contains(what)), "{api_type}: test() says what it checked: {said:?}");
        assert_eq!(h.sim.received().len() - sent > 0, calls > 0, "{api_type}: whether test() sent requests");
    }
    let shipping_key =
        h.instance.logs().iter().any(|l| l.message.contains("a bearer token issued now for identifier tms-1 checks"));
    assert!(shipping_key, "the shipping_key test() issued and checked a token");
    // Klarna Network errors come back in their own shape, mapped faithfully.
    let wrong = h.try_open(&with_auth("network", api_key("klarna_test_api_wrong"))).expect("open");
    match h.instance.test(wrong).expect("no trap") {
        Err(ConnectorError::Unauthorized(e)) => {
            assert_eq!((e.status, e.code.as_deref()), (401, Some("UNAUTHORIZED")));
            assert!(e.correlation_id.is_some(), "error_id kept as the correlation id");
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
}

#[test]
fn failures_say_what_to_do() {
    let mut h = Harness::new();
    let wrong =
        with_auth("post-purchase", Auth::Basic(BasicAuth { username: sim::USERNAME.into(), password: "nope".into() }));
    let connection = h.try_open(&wrong).expect("open");
    match h.instance.test(connection).expect("no trap") {
        Err(ConnectorError::Unauthorized(e)) => assert!(
            e.messages[0].starts_with("Klarna refused these credentials on api.playground.klarna.com (playground, eu)"),
            "{:?}",
            e.messages
        ),
        other => panic!("expected unauthorized, got {other:?}"),
    }
    // Credentials of the EU playground used for North America.
    let mut na = crate::common::config("post-purchase");
    na.region = "na".into();
    let connection = h.try_open(&na).expect("open");
    match h.instance.test(connection).expect("no trap") {
        Err(ConnectorError::Unauthorized(e)) => {
            assert!(e.messages[0].contains("api-na.playground.klarna.com (playground, na)"), "{:?}", e.messages)
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
    let mut config = crate::common::config("settlements");
    config.settings = crate::common::pairs(&[("max_attempts", "1")]);
    let connection = h.try_open(&config).expect("open");
    h.sim.inject([Fault::ConnectionError]);
    match h.instance.test(connection).expect("no trap") {
        Err(ConnectorError::Transport(m)) => assert!(m.starts_with("could not reach api.playground.klarna.com"), "{m}"),
        other => panic!("expected transport, got {other:?}"),
    }
    let mut hidden = crate::common::config("disputes");
    hidden.settings = crate::common::pairs(&[("subdomain", "login")]);
    match h.try_open(&hidden) {
        Err(ConnectorError::InvalidConfig(m)) => assert_eq!(m, "settings.subdomain: only used with auth oauth2"),
        other => panic!("expected invalid-config, got {other:?}"),
    }
}

/// Distinctive secrets through every auth kind and failure path, and a scan of
/// everything the component returned or logged.
#[test]
fn secrets_never_leave_the_component() {
    let password = "PW-zz91-secret-password";
    let key = "klarna_test_api_SECRETkey0042";
    let client_secret = "CS-zz91-client-secret";
    let token = "TK-zz91-bearer-token";
    let mut seen: Vec<String> = vec![];
    let mut h = Harness::new();
    let configs = [
        with_auth(
            "post-purchase",
            Auth::Basic(BasicAuth { username: sim::USERNAME.into(), password: password.into() }),
        ),
        with_auth("settlements", api_key(key)),
        with_auth("disputes", oauth2(client_secret)),
    ];
    let faults = [
        vec![],
        vec![Fault::RateLimited { retry_after_s: 30 }],
        vec![Fault::ServiceUnavailable; 3],
        vec![Fault::ConnectionError; 3],
        vec![Fault::Timeout; 3],
        vec![Fault::Answer(SimResponse::json(403, &serde_json::json!({"error_code": "NOT_ALLOWED"})))],
    ];
    for config in &configs {
        let mut bad = config.clone();
        bad.region = "xx".into();
        seen.push(format!("{:?}", h.try_open(&bad)));
        let mut wrong_env = config.clone();
        wrong_env.environment = "production".into();
        seen.push(format!("{:?}", h.try_open(&wrong_env)));
        let connection = h.try_open(config).expect("open");
        seen.push(format!("{:?}", h.instance.entities(connection)));
        for fault in &faults {
            h.sim.inject(fault.clone());
            seen.push(format!("{:?}", h.instance.test(connection)));
        }
        seen.push(format!("{:?}", h.subscribe(connection, "order", &[("order_id", "x")], &[], None, None)));
    }
    // The good OAuth client: its access token must not leak either.
    let oauth = h.try_open(&with_auth("disputes", oauth2(sim::CLIENT_SECRET))).expect("open");
    seen.push(format!("{:?}", h.instance.test(oauth)));
    h.sim.revoke_access_tokens();
    h.sim.inject(vec![Fault::ServiceUnavailable; 3]);
    seen.push(format!("{:?}", h.instance.test(oauth)));
    // The push side's secrets: a signing key and a callback secret, through
    // verified and refused deliveries, answers and refused settings.
    let signing_key = "SK-zz91-signing-key";
    let callback_secret = "CB-zz91-callback-secret";
    let mut network = with_auth("network", api_key(key));
    for keys in [format!("krn:k1={signing_key} krn:k1={signing_key}"), format!("krn:k1 {signing_key}")] {
        network.settings = crate::common::pairs(&[("signing_keys", &keys)]);
        seen.push(format!("{:?}", h.try_open(&network)));
    }
    network.settings = crate::common::pairs(&[("signing_keys", &format!("krn:k1={signing_key}"))]);
    let listener = h.try_open(&network).expect("open");
    let body = br#"{"metadata":{"event_type":"payment.request.state-change.completed","event_id":"e1"},"payload":{}}"#;
    let signature = sim::notifications::sign(signing_key.as_bytes(), body);
    for (sig, key_id) in [(signature.as_str(), "krn:k1"), ("00", "krn:k1"), (signature.as_str(), "krn:k2")] {
        let request = IncomingRequest {
            method: Method::Post,
            path: "/network/notifications".into(),
            headers: crate::common::pairs(&[("Klarna-Signature", sig), ("Klarna-Signing-Key-Id", key_id)]),
            body: body.to_vec(),
        };
        seen.push(format!("{:?}", h.instance.receive(listener, &request)));
    }
    let mut purchase =
        with_auth("purchase", Auth::Basic(BasicAuth { username: sim::USERNAME.into(), password: password.into() }));
    purchase.settings = crate::common::pairs(&[("callback_secret", callback_secret)]);
    let callbacks = h.try_open(&purchase).expect("open");
    for token in [callback_secret, "wrong"] {
        let request = IncomingRequest {
            method: Method::Post,
            path: format!("/payments/authorization?token={token}"),
            headers: vec![],
            body: br#"{"authorization_token":"t","session_id":"s"}"#.to_vec(),
        };
        seen.push(format!("{:?}", h.instance.receive(callbacks, &request)));
    }
    seen.push(format!("{:?}", h.instance.respond(callbacks, "checkout.validation", callback_secret)));
    // The shipping assistant's key and the tokens it issues: through /auth with
    // right and wrong digests, calls with the token, a forged and a missing one.
    let shipping_key = "SH-zz91-shipping-key";
    let tms = Auth::Basic(BasicAuth { username: "tms-zz91".into(), password: shipping_key.into() });
    let mut shipping = with_auth("shipping-assistant", tms);
    let mut bad = shipping.clone();
    bad.settings.clear();
    seen.push(format!("{:?}", h.try_open(&bad)));
    let assistant = h.try_open(&shipping).expect("open");
    seen.push(format!("{:?}", h.instance.test(assistant)));
    let mut issued = Vec::new();
    for key in [shipping_key, "wrong-key"] {
        let auth = sim::ShippingService::new(crate::common::MOUNT, "tms-zz91", key).auth_request("n0nce-zz91");
        let request =
            IncomingRequest { method: Method::Post, path: "/auth".into(), headers: auth.headers, body: auth.body };
        match h.instance.receive(assistant, &request).expect("no trap") {
            // The reply to /auth carries the token by design: only its status is output here.
            Ok(delivery) => {
                let reply = delivery.reply.expect("a reply");
                seen.push(format!("{} {:?}", reply.status, delivery.events));
                let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
                issued.extend(body["token"].as_str().map(str::to_string));
            }
            Err(e) => seen.push(format!("{e:?}")),
        }
    }
    assert_eq!(issued.len(), 1, "one token issued");
    for bearer in [issued[0].clone(), format!("{}x", issued[0]), String::new()] {
        let request = IncomingRequest {
            method: Method::Post,
            path: "/shipment".into(),
            headers: crate::common::pairs(&[("Authorization", &format!("Bearer {bearer}"))]),
            body: br#"{"currency":"SEK","locale":"sv-SE"}"#.to_vec(),
        };
        seen.push(format!("{:?}", h.instance.receive(assistant, &request)));
    }
    seen.push(format!("{:?}", h.instance.respond(assistant, "shipping.shipment_create", shipping_key)));
    // The token auth kind: Klarna presents the configured token.
    let configured = h.try_open(&with_auth("shipping-assistant", Auth::Token(token.into()))).expect("open");
    seen.push(format!("{:?}", h.instance.test(configured)));
    for bearer in [token, "TK-zz91-bearer-tokeN"] {
        let request = IncomingRequest {
            method: Method::Post,
            path: "/shipment/s1/confirm".into(),
            headers: crate::common::pairs(&[("Authorization", &format!("Bearer {bearer}"))]),
            body: vec![],
        };
        seen.push(format!("{:?}", h.instance.receive(configured, &request)));
    }
    shipping.settings.push(("shipment_id".into(), shipping_key.into()));
    seen.push(format!("{:?}", h.try_open(&shipping)));
    seen.push(h.instance.describe().expect("describe"));
    seen.extend(h.instance.logs().iter().map(|l| l.message.clone()));
    let access_tokens: Vec<String> = authorization_headers(&h)
        .iter()
        .filter_map(|a| a.strip_prefix("Bearer sim-at-").map(|t| format!("sim-at-{t}")))
        .collect();
    assert!(!access_tokens.is_empty(), "{:?}", authorization_headers(&h));
    let secrets: Vec<&str> =
        [password, key, client_secret, token, sim::CLIENT_SECRET, signing_key, callback_secret, shipping_key]
            .iter()
            .copied()
            .chain(access_tokens.iter().map(String::as_str))
            .chain(issued.iter().map(String::as_str))
            .collect();
    for text in &seen {
        crate::common::assert_no_leak(text, sim::USERNAME, &secrets);
    }
    assert!(
        seen.len() > 30 && h.instance.logs().len() > 20,
        "{} outputs, {} log lines scanned",
        seen.len(),
        h.instance.logs().len()
    );
}
