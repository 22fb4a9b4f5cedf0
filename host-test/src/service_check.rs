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

    let Some(entity) = first_list(&manifest, &api_type) else {
        return Ok(report);
    };
    pass(check_stream(base, token, &entity)?);
    Ok(report)
}

/// The first entity of `api_type` read by a GET without path parameters.
fn first_list(manifest: &Value, api_type: &str) -> Option<String> {
    let entities = manifest["entities"].as_array()?;
    let listed = entities.iter().filter(|e| e["api_type"] == api_type).find(|e| {
        e["operations"].as_array().is_some_and(|ops| {
            ops.iter().any(|op| op["method"] == "get" && op["path"].as_str().is_some_and(|p| !p.contains('{')))
        }) && e.get("records").is_some()
    })?;
    listed["name"].as_str().map(str::to_string)
}

/// `GET /records/{entity}?max_pages=1`: a stream that ends with `@end`, and,
/// when it stopped with more to read, a second one from its cursor that
/// repeats none of the first's records; or, when Klarna cannot be reached,
/// the first page's problem document.
fn check_stream(base: &str, token: &str, entity: &str) -> Result<String, String> {
    let read = |cursor: Option<&str>| -> Result<Result<(Vec<Value>, Value), Answer>, String> {
        let mut path = format!("/records/{entity}?max_pages=1&page_size=2");
        if let Some(cursor) = cursor {
            let cursor = percent_encoding::utf8_percent_encode(cursor, percent_encoding::NON_ALPHANUMERIC);
            path.push_str(&format!("&cursor={cursor}"));
        }
        let answer = call(base, "GET", &path, Some(token), b"")?;
        if answer.status != 200 || answer.kind != "application/x-ndjson" {
            return Ok(Err(answer));
        }
        let mut lines = Vec::new();
        for line in answer.body.lines() {
            lines
                .push(serde_json::from_str::<Value>(line).map_err(|e| format!("GET {path}: a line is not JSON: {e}"))?);
        }
        let end = lines.pop().and_then(|l| l.get("@end").cloned()).ok_or(format!("GET {path}: no @end line"))?;
        Ok(Ok((lines.into_iter().filter(|l| l.get("@page").is_none()).collect(), end)))
    };
    let what = format!("GET /records/{entity}?max_pages=1");
    let (first, end) = match read(None)? {
        Ok(read) => read,
        Err(answer) => {
            let problem = json(&answer, &what)?;
            let case =
                problem["connector_error"].as_str().ok_or(format!("{what}: {}: {}", answer.status, answer.body))?;
            return Ok(format!("{what}: {} problem {case} before the first page (Klarna not reached)", answer.status));
        }
    };
    let Some(cursor) = end["cursor"].as_str() else {
        return Ok(format!("{what}: 200, {} records and @end, no more pages", first.len()));
    };
    let (second, _) = read(Some(cursor))?.map_err(|a| format!("{what} resumed: {}: {}", a.status, a.body))?;
    if second.iter().any(|record| first.contains(record)) {
        return Err(format!("{what}: resumed from the @end cursor, it repeated a record"));
    }
    Ok(format!(
        "{what}: 200, {} records, resumed from the @end cursor: {} more, none repeated",
        first.len(),
        second.len()
    ))
}
