//! The connector as a `wasi:http` service: `target/klarna_connector.service.wasm`
//! (the plugin composed with the two generic adapters by `./x service`),
//! served by wasmtime-wasi-http on 127.0.0.1 with Klarna's hosts answered by
//! the embedded simulator, driven by a real HTTP client.

use std::path::PathBuf;

use host_test::cli::{ServiceBuild, ENV_SERVICE, SPIN_SERVICE, WASI_CONFIG_SERVICE};
use host_test::runtime::ConnectionConfig;
use host_test::service::{serve, ServeOptions, ServedService};
use host_test::sim::Simulator;
use serde_json::{json, Value};

const SERVICE_TOKEN: &str = "svc-Token-2f9c41d7b0e8";

/// The composed component (`./x service` makes it; `./x test` runs it first).
fn composed() -> PathBuf {
    built(ENV_SERVICE)
}

fn built(build: ServiceBuild) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(build.composed);
    assert!(path.exists(), "{} is missing: run ./x service", path.display());
    path
}

/// The deployment's environment for `config`, `extra` replacing or adding variables.
fn env(config: &ConnectionConfig, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars = host_test::service::deployment_env(config, SERVICE_TOKEN);
    for (name, value) in extra {
        vars.retain(|(n, _)| n != name);
        vars.push((name.to_string(), value.to_string()));
    }
    vars
}

fn start(api_type: &str, sim: &Simulator, extra: &[(&str, &str)]) -> ServedService {
    let config = host_test::backend::simulator_config(api_type);
    let options = ServeOptions { env: env(&config, extra), ..Default::default() };
    serve(&composed(), sim.clone(), options).expect("served")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// (status, content type, body) of a request to the service.
fn call(
    s: &ServedService,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> (u16, String, String) {
    let mut request = ureq::http::Request::builder().method(method).uri(format!("http://{}{path}", s.addr));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let request = request.body(body.map(<[u8]>::to_vec).unwrap_or_default()).expect("a request");
    let mut response = agent().run(request).expect("an answer");
    let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let text = response.body_mut().with_config().limit(64 << 20).read_to_string().expect("a body");
    (response.status().as_u16(), kind, text)
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The imports of each build, as docs/service.md lists them: WASI only, the
/// configuration interface its engine offers, and nothing it does not.
#[test]
fn each_build_imports_wasi_and_its_engines_config_interface_only() {
    const RUNTIME: &str = "wasi:config/runtime@0.2.0-draft";
    const STORE: &str = "wasi:config/store@0.2.0-draft-2024-09-27";
    for (build, config) in [(ENV_SERVICE, None), (WASI_CONFIG_SERVICE, Some(RUNTIME)), (SPIN_SERVICE, Some(STORE))] {
        let engine = wasmtime::Engine::default();
        let component = wasmtime::component::Component::from_file(&engine, built(build)).expect("a component");
        let ty = component.component_type();
        let imports: Vec<String> = ty.imports(&engine).map(|(name, _)| name.to_string()).collect();
        assert!(imports.iter().all(|name| name.starts_with("wasi:")), "{imports:?}");
        assert!(imports.iter().any(|name| name.starts_with("wasi:http/outgoing-handler@0.2.")), "{imports:?}");
        let configs: Vec<&String> = imports.iter().filter(|name| name.starts_with("wasi:config/")).collect();
        assert_eq!(configs, config.into_iter().collect::<Vec<_>>(), "{build:?}");
        let exports: Vec<String> = ty.exports(&engine).map(|(name, _)| name.to_string()).collect();
        assert_eq!(exports, ["wasi:http/incoming-handler@0.2.4"]);
        let docs = include_str!("../../docs/service.md");
        for name in &imports {
            assert!(docs.contains(&format!("`{name}`")), "docs/service.md does not list {name} ({build:?})");
        }
    }
}

/// Spin's way: the connection, the token and the allow-list arrive as
/// Spin variables (lower case, as spin.toml declares them) through
/// `wasi:config/store`; the environment holds nothing of the connection.
#[test]
fn the_spin_build_serves_the_connection_its_variables_hold() {
    let sim = Simulator::default();
    let config = host_test::backend::simulator_config("post-purchase");
    let variables: Vec<(String, String)> =
        env(&config, &[]).into_iter().map(|(name, value)| (name.to_ascii_lowercase(), value)).collect();
    let options = ServeOptions { config: variables, ..Default::default() };
    let s = serve(&built(SPIN_SERVICE), sim.clone(), options).expect("served");
    let (status, _, body) = call(&s, "POST", "/test", Some(SERVICE_TOKEN), None);
    assert_eq!((status, json_of(&body)), (200, json!({"ok": true})), "test() reached the simulator");
    let (status, _, _) = call(&s, "POST", "/test", Some("another-token"), None);
    assert_eq!(status, 401);

    // The same variables in the environment reach the Spin build too, but wasi:config wins.
    let stale = vec![("SERVICE_TOKEN".to_string(), "stale-env-token".to_string())];
    let variables = vec![("service_token".to_string(), SERVICE_TOKEN.to_string())];
    let mut env_then_store = env(&config, &[]);
    env_then_store.retain(|(name, _)| name != "SERVICE_TOKEN");
    env_then_store.extend(stale);
    let options = ServeOptions { env: env_then_store, config: variables, ..Default::default() };
    let s = serve(&built(SPIN_SERVICE), sim.clone(), options).expect("served");
    assert_eq!(call(&s, "POST", "/test", Some(SERVICE_TOKEN), None).0, 200);
    assert_eq!(call(&s, "POST", "/test", Some("stale-env-token"), None).0, 401);
}

/// An engine that refuses one reply header (here `www-authenticate`, through
/// wasmtime-wasi-http's own hook) costs that header only: the 401 still says
/// it is a problem document, and the service logs what it dropped.
#[test]
fn a_header_the_engine_refuses_is_dropped_alone_and_logged() {
    let sim = Simulator::default();
    let config = host_test::backend::simulator_config("post-purchase");
    let forbidden = vec![http::HeaderName::from_static("www-authenticate")];
    let options = ServeOptions { env: env(&config, &[]), forbidden_headers: forbidden, ..Default::default() };
    let s = serve(&composed(), sim, options).expect("served");
    let request = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/test", s.addr))
        .header("Authorization", "Bearer not-it")
        .body(Vec::new())
        .expect("a request");
    let response = agent().run(request).expect("an answer");
    assert_eq!(response.status().as_u16(), 401);
    let headers = response.headers();
    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/problem+json"));
    assert!(headers.get("content-length").is_some(), "the other headers arrive");
    assert!(headers.get("www-authenticate").is_none());
    let stderr = s.stderr.lock().expect("stderr").join("\n");
    assert!(stderr.contains("reply header www-authenticate dropped: forbidden by the engine"), "{stderr}");
}

/// wasmCloud's way: the connection, the token and the allow-list arrive as
/// wadm `config` keys (lower case, as wadm files write them) through
/// `wasi:config/runtime`; the environment holds stale values they override.
#[test]
fn the_wasi_config_build_serves_the_connection_its_config_holds() {
    let sim = Simulator::default();
    let config = host_test::backend::simulator_config("post-purchase");
    let keys: Vec<(String, String)> =
        env(&config, &[]).into_iter().map(|(name, value)| (name.to_ascii_lowercase(), value)).collect();
    let stale = vec![("SERVICE_TOKEN".to_string(), "stale-env-token".to_string())];
    let options = ServeOptions { env: stale, config: keys, ..Default::default() };
    let s = serve(&built(WASI_CONFIG_SERVICE), sim.clone(), options).expect("served");
    let (status, _, body) = call(&s, "POST", "/test", Some(SERVICE_TOKEN), None);
    assert_eq!((status, json_of(&body)), (200, json!({"ok": true})), "test() reached the simulator");
    let (status, _, body) = call(&s, "POST", "/test", Some("stale-env-token"), None);
    assert_eq!(status, 401, "the config's token wins over the environment's: {body}");
    let order = sim.place_order(5000, "EUR", "DE", "de-DE");
    let publish = json!({"entity": "order-captures", "method": "post", "idempotency_key": "cfg-1",
        "params": {"path": {"order_id": order}, "payload": {"captured_amount": 5000}}});
    let (status, _, body) = call(&s, "POST", "/publish", Some(SERVICE_TOKEN), Some(publish.to_string().as_bytes()));
    assert_eq!(status, 200, "{body}");
    assert_eq!(sim.order(&order).expect("order").captures.len(), 1, "the capture reached Klarna");

    // Without config the same file serves nothing: the environment alone has no connection.
    let bare = ServeOptions { env: vec![("SERVICE_TOKEN".into(), SERVICE_TOKEN.into())], ..Default::default() };
    let s = serve(&built(WASI_CONFIG_SERVICE), sim, bare).expect("served");
    let (status, _, body) = call(&s, "POST", "/test", Some(SERVICE_TOKEN), None);
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("CONNECTOR_API_TYPE"), "{body}");
}

#[test]
fn describe_entities_and_the_service_token() {
    let sim = Simulator::default();
    let s = start("post-purchase", &sim, &[]);
    let (status, kind, body) = call(&s, "GET", "/describe", Some(SERVICE_TOKEN), None);
    assert_eq!((status, kind.as_str()), (200, "application/json"));
    host_test::manifest_text::assert_is_the_manifest_minified(&body);
    let (status, _, body) = call(&s, "GET", "/entities", Some(SERVICE_TOKEN), None);
    assert_eq!(status, 200);
    let entities = json_of(&body);
    assert!(entities.as_array().expect("a list").iter().any(|e| e["name"] == "order-captures"), "{body}");
    for token in [None, Some("svc-Token-2f9c41d7b0e9"), Some("")] {
        let (status, kind, body) = call(&s, "POST", "/test", token, None);
        assert_eq!((status, kind.as_str()), (401, "application/problem+json"), "{token:?}: {body}");
        assert_eq!(json_of(&body)["connector_error"], "service-token");
        assert!(!body.contains(SERVICE_TOKEN));
    }
    let (status, _, body) = call(&s, "POST", "/test", Some(SERVICE_TOKEN), None);
    assert_eq!((status, json_of(&body)), (200, json!({"ok": true})));
    let stderr = s.stderr.lock().expect("stderr").join("\n");
    assert!(!stderr.contains(host_test::sim::PASSWORD), "the password never reaches the log");
}

#[test]
fn a_capture_published_twice_with_one_key_captures_once() {
    let sim = Simulator::default();
    let order = sim.place_order(5000, "EUR", "DE", "de-DE");
    let s = start("post-purchase", &sim, &[]);
    let publish = json!({"entity": "order-captures", "method": "post", "params": {"path": {"order_id": order},
        "payload": {"captured_amount": 3000}}, "idempotency_key": "svc-capture-1"});
    let bytes = publish.to_string().into_bytes();
    let first = call(&s, "POST", "/publish", Some(SERVICE_TOKEN), Some(&bytes));
    let second = call(&s, "POST", "/publish", Some(SERVICE_TOKEN), Some(&bytes));
    assert_eq!(first.0, 200, "{}", first.2);
    assert_eq!(json_of(&first.2)["id"], json_of(&second.2)["id"], "the same capture both times");
    assert_eq!(sim.order(&order).expect("order").captures.len(), 1, "one capture at Klarna");
}

/// A `/records` stream: its record lines, and its last line's `@end` object.
fn stream(s: &ServedService, query: &str) -> (Vec<Value>, Value) {
    let (lines, end) = stream_lines(s, query);
    (lines.into_iter().filter(|line| line.get("@page").is_none()).collect(), end)
}

/// A `/records` stream's lines before the last (records and `@page`
/// checkpoints), and its last line's `@end` object.
fn stream_lines(s: &ServedService, query: &str) -> (Vec<Value>, Value) {
    let (status, kind, body) = call(s, "GET", &format!("/records/{query}"), Some(SERVICE_TOKEN), None);
    assert_eq!((status, kind.as_str()), (200, "application/x-ndjson"), "{body}");
    let mut lines: Vec<Value> = body.lines().map(json_of).collect();
    let end = lines.pop().map(|l| l["@end"].clone()).unwrap_or_default();
    assert!(end.is_object(), "the last line is the end of the stream: {body}");
    (lines, end)
}

#[test]
fn every_transaction_streams_once_as_ndjson() {
    let sim = Simulator::default();
    let s = start("settlements", &sim, &[]);
    let (records, end) = stream(&s, "transactions?page_size=500");
    assert_eq!(end, json!({"pages": 3, "records": sim.transaction_count(), "cursor": null, "state": null}));
    let ids: Vec<String> = records.iter().map(|r| r["capture_id"].as_str().unwrap_or_default().to_string()).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((ids.len(), unique.len()), (sim.transaction_count(), sim.transaction_count()), "each once");
    let pages = sim.received().iter().filter(|r| r.url.contains("/settlements/v1/transactions")).count();
    assert_eq!(pages, sim.transaction_count().div_ceil(500), "one request per page");
}

/// A stream cut by `max_pages` (as an engine's execution limit would cut
/// it) hands back the cursor to go on from; resumed from it, the streams
/// together hold every record exactly once.
#[test]
fn a_stream_cut_after_some_pages_resumes_from_its_cursor_with_every_record_once() {
    let sim = Simulator::default();
    let s = start("settlements", &sim, &[]);
    let mut ids = vec![];
    let mut query = "transactions?page_size=100&max_pages=4".to_string();
    let mut streams = 0;
    loop {
        let (records, end) = stream(&s, &query);
        streams += 1;
        ids.extend(records.iter().map(|r| r["capture_id"].as_str().unwrap_or_default().to_string()));
        match end["cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(end["pages"], 4, "cut after max_pages");
                let cursor = percent_encoding::utf8_percent_encode(cursor, percent_encoding::NON_ALPHANUMERIC);
                query = format!("transactions?page_size=100&max_pages=4&cursor={cursor}");
            }
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len(), streams), (sim.transaction_count(), sim.transaction_count(), 4));
}

/// A stream cut anywhere, as an engine's execution limit cuts it (no `@end`
/// line, maybe half a page): the records after the last `@page` line are
/// dropped and the read resumes from its cursor; together the pieces hold
/// every record exactly once.
#[test]
fn a_stream_cut_mid_page_resumes_from_its_last_checkpoint_with_every_record_once() {
    let sim = Simulator::default();
    let s = start("settlements", &sim, &[]);
    let (lines, end) = stream_lines(&s, "transactions?page_size=100");
    let checkpoints: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].get("@page").is_some()).collect();
    assert_eq!(checkpoints.len() + 1, end["pages"].as_u64().unwrap_or(0) as usize, "one after each page but the last");
    let page = &lines[checkpoints[1]]["@page"];
    assert_eq!((page["pages"].clone(), page["records"].clone()), (json!(2), json!(200)), "{page}");

    // Cut 30 records into the fourth page: what a client kept, then what it reads on.
    let cut = checkpoints[2] + 31;
    let last = lines[..cut].iter().rposition(|line| line.get("@page").is_some()).expect("a checkpoint");
    let mut ids: Vec<String> = lines[..last].iter().filter(|l| l.get("@page").is_none()).map(capture_id).collect();
    let cursor = lines[last]["@page"]["cursor"].as_str().expect("a cursor");
    let cursor = percent_encoding::utf8_percent_encode(cursor, percent_encoding::NON_ALPHANUMERIC);
    let (rest, end) = stream(&s, &format!("transactions?page_size=100&cursor={cursor}"));
    assert!(end["cursor"].is_null(), "{end}");
    ids.extend(rest.iter().map(capture_id));
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (sim.transaction_count(), sim.transaction_count()));
}

fn capture_id(record: &Value) -> String {
    record["capture_id"].as_str().unwrap_or_default().to_string()
}

/// An incremental entity's stream ends with the state; `since` with it
/// streams only the look-back window (the curl of docs/service.md).
#[test]
fn a_stream_of_an_incremental_entity_hands_back_its_state_and_takes_it_as_since() {
    let sim = Simulator::default();
    let s = start("settlements", &sim, &[]);
    let (all, end) = stream(&s, "payouts?page_size=5");
    assert_eq!(all.len(), 13);
    let state = end["state"].as_str().expect("a state").to_string();
    let since = percent_encoding::utf8_percent_encode(&state, percent_encoding::NON_ALPHANUMERIC);
    let (again, end) = stream(&s, &format!("payouts?page_size=5&since={since}"));
    assert_eq!(again.len(), 8, "the newest payout's day and the 7 days before it");
    assert!(end["state"].as_str().is_some_and(|s| s.starts_with("s1.")));
    let (status, _, body) = call(&s, "GET", "/records/payouts?since=nope", Some(SERVICE_TOKEN), None);
    assert_eq!(status, 400, "{body}");
    assert!(json_of(&body)["detail"].as_str().is_some_and(|d| d.starts_with("since: ")), "{body}");
}

#[test]
fn errors_are_problem_documents_and_large_bodies_are_refused() {
    let sim = Simulator::default();
    let s = start("post-purchase", &sim, &[]);
    let read = json!({"entity": "order", "params": {"path": {"order_id": "00000000-0000-0000-0000-0000000000aa"}}});
    let (status, kind, body) = call(&s, "POST", "/subscribe", Some(SERVICE_TOKEN), Some(read.to_string().as_bytes()));
    assert_eq!((status, kind.as_str()), (404, "application/problem+json"), "{body}");
    let problem = json_of(&body);
    assert_eq!(problem["connector_error"], "not-found");
    assert_eq!(problem["klarna_status"], 404);
    assert!(problem["correlation_id"].as_str().is_some_and(|c| !c.is_empty()), "{problem}");
    let (status, _, body) = call(&s, "POST", "/subscribe", Some(SERVICE_TOKEN), Some(b"{\"entity\": 1}"));
    assert_eq!((status, json_of(&body)["connector_error"].as_str()), (400, Some("invalid-input")));
    // Over the limit by Content-Length: refused before the body is read (so a
    // raw client sends only the head and the first bytes, and reads the answer).
    let answer = over_limit(&s, &format!("Content-Length: {}\r\n", 8 * 1024 * 1024 + 1), 1024);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("body-too-large"), "{answer}");
    // Chunked, no length given: refused once the limit is passed while reading.
    let answer = over_limit(&s, "Transfer-Encoding: chunked\r\n", 8 * 1024 * 1024 + 4096);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

/// Sends a POST /publish head with `framing` and `bytes` of body (chunked
/// when the framing says so, stopping at the first write the service refuses), and reads the answer.
fn over_limit(s: &ServedService, framing: &str, bytes: usize) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(s.addr).expect("connect");
    let head = format!(
        "POST /publish HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {SERVICE_TOKEN}\r\n{framing}Connection: close\r\n\r\n",
        s.addr
    );
    stream.write_all(head.as_bytes()).expect("head");
    let chunked = framing.contains("chunked");
    for _ in 0..bytes.div_ceil(65536) {
        let chunk = vec![b' '; 65536];
        let sent = if chunked {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .and_then(|()| stream.write_all(&chunk))
                .and_then(|()| stream.write_all(b"\r\n"))
        } else {
            stream.write_all(&chunk[..bytes.min(1024)])
        };
        if sent.is_err() || !chunked {
            break;
        }
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn a_signed_webhook_arrives_through_a_callback_route() {
    let sim = Simulator::default();
    let key_id = "krn:partner:global:notification:signing-key:svc";
    let key = "svc-signing-key-81d2";
    let keys = format!("{key_id}={key}");
    let s = start("network", &sim, &[("CONNECTOR_SETTING_SIGNING_KEYS", &keys)]);
    let body = br#"{"metadata":{"event_type":"payment.request.state-change.completed","event_id":"svc-1","event_version":"v2"},"payload":{"payment_request_id":"krn:payment:eu1:request:svc"}}"#;
    let signature = host_test::sim::notifications::sign(key.as_bytes(), body);
    let send = |body: &[u8]| {
        let request = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("http://{}/callbacks/network/notifications", s.addr))
            .header("Klarna-Signature", &signature)
            .header("Klarna-Signing-Key-Id", key_id)
            .body(body.to_vec())
            .expect("a request");
        agent().run(request).expect("an answer").status().as_u16()
    };
    assert_eq!(send(body), 200, "no service token needed: the signature is the proof");
    let mut changed = body.to_vec();
    changed[20] ^= 1;
    assert_eq!(send(&changed), 400, "a bad signature gets the status Klarna asks for");
    let stderr = s.stderr.lock().expect("stderr").clone();
    let events: Vec<Value> = stderr
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("event").is_some())
        .collect();
    assert_eq!(events.len(), 1, "{stderr:?}");
    assert_eq!(events[0]["event"]["id"], "svc-1");
    assert!(!stderr.join("\n").contains(key), "the signing key never reaches the log");
}

#[test]
fn the_bridge_sends_only_to_the_allowed_hosts() {
    let sim = Simulator::default();
    // The playground host left out of the list the deployment gives the bridge.
    let s = start("post-purchase", &sim, &[("CONNECTOR_ALLOWED_HOSTS", "api.klarna.com")]);
    let (status, kind, body) = call(&s, "POST", "/test", Some(SERVICE_TOKEN), None);
    assert_eq!((status, kind.as_str()), (502, "application/problem+json"), "{body}");
    let problem = json_of(&body);
    assert_eq!(problem["connector_error"], "transport");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("CONNECTOR_ALLOWED_HOSTS")), "{problem}");
    assert!(sim.received().is_empty(), "nothing reached Klarna");
}

/// The secrets of a deployment: the credentials and the service token.
const SECRETS: [&str; 3] = ["connector_username", "connector_password", "service_token"];

/// deploy/spin.toml as Spin reads it: the Spin build, the manifest's hosts in
/// both allow-lists, every component variable an application variable, and
/// the secrets `secret = true` and required, with no value anywhere.
#[test]
fn the_spin_manifest_declares_the_secrets_as_secret_variables_with_no_value() {
    let spin: toml::Table = toml::from_str(include_str!("../../deploy/spin.toml")).expect("TOML");
    let hosts = &klarna_connector::manifest::Manifest::get().hosts;
    let component = &spin["component"]["klarna"];
    assert_eq!(component["source"].as_str(), Some(format!("../{}", SPIN_SERVICE.composed).as_str()));
    let outbound: Vec<&str> =
        component["allowed_outbound_hosts"].as_array().expect("a list").iter().filter_map(|h| h.as_str()).collect();
    let expected: Vec<String> = hosts.allowed.iter().map(|host| format!("https://{host}")).collect();
    assert_eq!(outbound, expected);
    let variables = spin["variables"].as_table().expect("[variables]");
    let mapped = component["variables"].as_table().expect("[component.klarna.variables]");
    for (name, value) in mapped {
        assert_eq!(value.as_str(), Some(format!("{{{{ {name} }}}}").as_str()), "{name} maps its own variable");
        assert!(variables.contains_key(name), "{name} is not an application variable");
    }
    assert_eq!(variables["connector_allowed_hosts"]["default"].as_str(), Some(hosts.allowed_list().as_str()));
    for secret in SECRETS {
        let declared = variables[secret].as_table().expect("declared");
        assert_eq!(declared.get("secret").and_then(|v| v.as_bool()), Some(true), "{secret}");
        assert_eq!(declared.get("required").and_then(|v| v.as_bool()), Some(true), "{secret}");
        assert!(declared.get("default").is_none(), "{secret} has a value in the file");
        assert!(mapped.contains_key(secret), "{secret} does not reach the component");
    }
    assert!(component.get("environment").is_none(), "the Spin build reads variables, not the environment");
}

/// deploy/spinkube.yaml: a SpinApp whose secret variables all come from a
/// Kubernetes Secret, and no Secret with values in the file.
#[test]
fn the_spinkube_app_takes_its_secrets_from_a_kubernetes_secret() {
    let text = include_str!("../../deploy/spinkube.yaml");
    let documents: Vec<serde_yaml_ng::Value> = serde_yaml_ng::Deserializer::from_str(text)
        .map(|document| serde::Deserialize::deserialize(document).expect("YAML"))
        .collect();
    assert!(documents.iter().all(|d| d["kind"] != "Secret"), "a Secret with its values belongs outside the file");
    let app = documents.iter().find(|d| d["kind"] == "SpinApp").expect("a SpinApp");
    assert_eq!(app["apiVersion"], "core.spinkube.dev/v1alpha1");
    let variables = app["spec"]["variables"].as_sequence().expect("spec.variables");
    let spin: toml::Table = toml::from_str(include_str!("../../deploy/spin.toml")).expect("TOML");
    for variable in variables {
        let name = variable["name"].as_str().expect("a name");
        assert!(spin["variables"].as_table().is_some_and(|v| v.contains_key(name)), "{name} is not in spin.toml");
        if SECRETS.contains(&name) {
            assert!(variable.get("value").is_none(), "{name} has a value in the file");
            assert_eq!(variable["valueFrom"]["secretKeyRef"]["key"], name, "{name} comes from the Secret");
        }
    }
    for secret in SECRETS {
        assert!(variables.iter().any(|v| v["name"] == secret), "{secret} is not given");
    }
}

#[test]
fn the_wadm_manifest_runs_the_wasi_config_build_with_the_hosts_the_manifest_allows() {
    let wadm = include_str!("../../deploy/wadm.yaml");
    let hosts = &klarna_connector::manifest::Manifest::get().hosts;
    assert!(
        wadm.contains(&format!("connector_allowed_hosts: \"{}\"", hosts.allowed_list())),
        "the bridge's list differs"
    );
    assert!(wadm.contains(&format!("image: file://../{}", WASI_CONFIG_SERVICE.composed)));
    for secret in ["connector_password:", "service_token:", "client_secret:"] {
        let written = wadm.lines().any(|line| !line.trim_start().starts_with('#') && line.contains(secret));
        assert!(!written, "{secret} belongs in a named config, not in the file");
    }
    // The providers wasmCloud 1.9.2's examples use: http-client 0.13.1 honours request
    // timeouts and tells DNS and refused connections apart (0.12.1 ignored them).
    let images: Vec<&str> = wadm.lines().filter_map(|l| l.trim().strip_prefix("image: ghcr.io/wasmcloud/")).collect();
    assert_eq!(images, ["http-server:0.27.0", "http-client:0.13.1"]);
}

/// `host-test service-check` (what `./x wasmtime-serve` runs against the real
/// `wasmtime serve`) passes on the served component and fails on a wrong token.
#[test]
fn the_service_check_passes_here_and_refuses_a_wrong_token() {
    let sim = Simulator::default();
    let s = start("settlements", &sim, &[]);
    let base = format!("http://{}", s.addr);
    let report = host_test::service_check::run(&base, SERVICE_TOKEN).expect("the checks pass");
    assert_eq!(report.lines().filter(|l| l.starts_with("ok  ")).count(), 6, "{report}");
    assert!(report.contains("POST /test: 200"), "{report}");
    assert!(report.contains("resumed from the @end cursor: 2 more, none repeated"), "{report}");
    let refused = host_test::service_check::run(&base, "not-it").expect_err("a wrong token fails");
    assert!(refused.starts_with("GET /describe: 401"), "{refused}");
}
