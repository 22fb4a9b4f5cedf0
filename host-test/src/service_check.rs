//! `host-test service-check URL`: checks a deployed `wasi:http` service from
//! outside, on whatever engine serves it (`wasmtime serve`, Spin, wasmCloud),
//! with the routes that do not depend on reaching Klarna, then reports what
//! `POST /test` answered (Klarna's verdict, or the transport problem of an
//! engine without network). The service token comes from `SERVICE_TOKEN`.

use std::fmt::Write as _;

use serde_json::Value;

/// One answer: status, content type, body.
struct Answer {
    status: u16,
    kind: String,
    body: String,
}

fn call(base: &str, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> Result<Answer, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut request =
        ureq::http::Request::builder().method(method).uri(format!("{}{path}", base.trim_end_matches('/')));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let request = request.body(body.to_vec()).map_err(|e| format!("{method} {path}: {e}"))?;
    let mut response = agent.run(request).map_err(|e| format!("{method} {path}: {e}"))?;
    let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let body = response.body_mut().with_config().limit(16 << 20).read_to_string().map_err(|e| e.to_string())?;
    Ok(Answer { status: response.status().as_u16(), kind, body })
}

fn json(answer: &Answer, what: &str) -> Result<Value, String> {
    serde_json::from_str(&answer.body).map_err(|e| format!("{what}: not JSON ({e}): {}", answer.body))
}

/// Runs the checks against the service at `base`; the report, or the first failure.
pub fn run(base: &str, token: &str) -> Result<String, String> {
    let mut report = String::new();
    let mut pass = |line: String| {
        let _ = writeln!(report, "ok  {line}");
    };

    let describe = call(base, "GET", "/describe", Some(token), b"")?;
    if describe.status != 200 || describe.kind != "application/json" {
        return Err(format!("GET /describe: {} {}: {}", describe.status, describe.kind, describe.body));
    }
    let manifest: Value = serde_json::from_str(crate::manifest_text::CONNECTOR_JSON).map_err(|e| e.to_string())?;
    if json(&describe, "GET /describe")? != manifest {
        return Err("GET /describe is not this repository's connector.json".into());
    }
    pass(format!("GET /describe: 200, this repository's connector.json ({} bytes)", describe.body.len()));

    let entities = call(base, "GET", "/entities", Some(token), b"")?;
    let listed = json(&entities, "GET /entities")?;
    let listed = listed.as_array().ok_or(format!("GET /entities: not a list: {}", entities.body))?;
    let api_type = listed.first().and_then(|e| e["api_type"].as_str()).unwrap_or_default().to_string();
    let names: Vec<&str> = listed.iter().filter_map(|e| e["name"].as_str()).collect();
    let expected: Vec<&str> = manifest["entities"]
        .as_array()
        .map(|all| {
            all.iter().filter(|e| e["api_type"] == api_type.as_str()).filter_map(|e| e["name"].as_str()).collect()
        })
        .unwrap_or_default();
    if entities.status != 200 || names.is_empty() || names != expected {
        return Err(format!(
            "GET /entities: {} {:?}, the manifest's {api_type:?} entities are {expected:?}",
            entities.status, names
        ));
    }
    pass(format!("GET /entities: 200, the {} entities of API type {api_type}", names.len()));

    let refused = call(base, "POST", "/test", Some("not-the-service-token"), b"")?;
    let problem = json(&refused, "POST /test with a wrong token")?;
    if refused.status != 401
        || refused.kind != "application/problem+json"
        || problem["connector_error"] != "service-token"
    {
        return Err(format!("POST /test with a wrong token: {} {}: {}", refused.status, refused.kind, refused.body));
    }
    pass("POST /test with a wrong service token: 401 application/problem+json (service-token)".into());

    let malformed = call(base, "POST", "/subscribe", Some(token), br#"{"entity": 1}"#)?;
    let problem = json(&malformed, "POST /subscribe with a malformed body")?;
    if malformed.status != 400 || problem["connector_error"] != "invalid-input" {
        return Err(format!("POST /subscribe with a malformed body: {}: {}", malformed.status, malformed.body));
    }
    pass("POST /subscribe with a malformed body: 400 application/problem+json (invalid-input)".into());

    let tested = call(base, "POST", "/test", Some(token), b"")?;
    let verdict = json(&tested, "POST /test")?;
    match (tested.status, tested.kind.as_str()) {
        (200, "application/json") if verdict == serde_json::json!({"ok": true}) => {
            pass("POST /test: 200 {\"ok\": true}: Klarna accepted the connection".into())
        }
        (400..=599, "application/problem+json") if verdict["connector_error"].is_string() => pass(format!(
            "POST /test: {} problem {}: {}",
            tested.status,
            verdict["connector_error"].as_str().unwrap_or_default(),
            verdict["detail"].as_str().unwrap_or_default()
        )),
        _ => return Err(format!("POST /test: {} {}: {}", tested.status, tested.kind, tested.body)),
    }
    Ok(report)
}
