//! Randomised inputs for `open`, `subscribe` and `publish` on the native core,
//! with a transport that answers at random (statuses, headers, broken bodies):
//! never a panic, always a typed result, never a secret in an error.
//!
//! `FUZZ_CASES` sets the number of cases (default 3,000; `./x fuzz` runs
//! 200,000) and `FUZZ_SEED` the first seed; a failure prints the seed.
//! `FUZZ_DEBUG=1` prints the kind of every error, to see what the inputs reach.

use std::cell::RefCell;
use std::time::Duration;

use klarna_connector::connection::Connection;
use klarna_connector::error::ConnectorError;
use klarna_connector::model::{Auth, ConnectionConfig, Method, Params, PublishRequest, SubscribeRequest};
use klarna_connector::secret::Secret;
use klarna_connector::transport::{HttpRequest, HttpResponse, Transport, TransportError};

const SECRET: &str = "fuzz-SECRET-7d1e";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn text(&mut self) -> String {
        const ALPHABET: &[&str] = &[
            "a",
            "Z",
            "0",
            "9",
            "-",
            "_",
            ".",
            "..",
            "/",
            "\\",
            "?",
            "#",
            "%",
            "%2F",
            "&",
            "=",
            "+",
            " ",
            "\n",
            "\r",
            "\t",
            "\0",
            "\u{7f}",
            "é",
            "💳",
            "{",
            "}",
            "\"",
            ":",
            "order_id",
            "https://evil.example/",
            "krn:payment:eu1:transaction:1",
        ];
        (0..self.below(12)).map(|_| self.pick(ALPHABET)).collect()
    }
    fn json(&mut self, depth: u32) -> String {
        match if depth > 3 { self.below(4) } else { self.below(7) } {
            0 => self.below(2_000_000_000).to_string(),
            1 => format!("-{}", self.below(1000)),
            2 => serde_json::to_string(&self.text()).unwrap_or_default(),
            3 => self.pick(&["null", "true", "1.5", "1e400", "[]", "{}"]).to_string(),
            4 => format!("[{}]", (0..self.below(4)).map(|_| self.json(depth + 1)).collect::<Vec<_>>().join(",")),
            _ => {
                let keys = [
                    "captured_amount",
                    "refunded_amount",
                    "order_lines",
                    "transactions",
                    "pagination",
                    "next",
                    "error_code",
                    "currency",
                    "amount",
                    "request_customer_token",
                    "request_payment_transaction",
                    "x",
                ];
                let fields: Vec<String> =
                    (0..self.below(5)).map(|_| format!("\"{}\":{}", self.pick(&keys), self.json(depth + 1))).collect();
                format!("{{{}}}", fields.join(","))
            }
        }
    }
    fn maybe_broken_json(&mut self) -> String {
        let mut text = self.json(0);
        if self.below(4) == 0 && !text.is_empty() {
            let mut cut = self.below(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        text
    }
    fn pairs(&mut self, keys: &[&str]) -> Vec<(String, String)> {
        (0..self.below(4))
            .map(|_| (if self.below(3) == 0 { self.text() } else { self.pick(keys).to_string() }, self.text()))
            .collect()
    }
}

/// Answers at random; never sleeps.
struct RandomKlarna(RefCell<Rng>);

impl Transport for RandomKlarna {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let host = request.url.strip_prefix("https://").and_then(|rest| rest.split('/').next()).unwrap_or("");
        let allowed = klarna_connector::manifest::Manifest::get().hosts.allowed;
        let token_host = host.ends_with(".klarna.com") && request.url.ends_with("/oauth2/token");
        assert!(allowed.contains(&host) || token_host, "request left the Klarna hosts: {}", request.url);
        let mut rng = self.0.borrow_mut();
        match rng.below(12) {
            0 => return Err(TransportError::Timeout),
            1 => return Err(TransportError::Connection(rng.text())),
            2 => return Err(TransportError::Denied(rng.text())),
            _ => {}
        }
        let status = [200, 200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 409, 413, 429, 500, 502, 503, 0, 999]
            [rng.below(19)];
        let mut headers = vec![];
        for name in ["Retry-After", "X-Ratelimit-Reset", "Location", "Capture-Id", "Content-Type"] {
            if rng.below(3) == 0 {
                let value = [rng.text(), rng.below(100).to_string(), "-1".into(), "1e308".into(), "NaN".into()]
                    [rng.below(5)]
                .clone();
                headers.push((name.to_string(), value));
            }
        }
        let host = request.url.split('/').take(3).collect::<Vec<_>>().join("/");
        let path = request.url.split('?').next().unwrap_or_default().to_string();
        let body = match rng.below(7) {
            0 => vec![],
            1 => (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
            2 | 3 => {
                // A plausible Klarna answer: a list page with a next link (sometimes pointing elsewhere), or an object.
                let next = [
                    format!("{path}?offset={}&size=2", rng.below(50)),
                    format!("{host}/elsewhere?offset=1"),
                    rng.text(),
                ][rng.below(3)]
                .clone();
                let record = r#"{"order_id":"o1","capture_id":"c1","payment_reference":"p1","amount":100}"#;
                let list = ["transactions", "payouts"][rng.below(2)];
                match rng.below(3) {
                    0 => format!(
                        r#"{{"{list}":[{record},{record}],"pagination":{{"count":2,"next":{}}}}}"#,
                        serde_json::Value::from(next)
                    ),
                    1 => format!("[{record}]"),
                    _ => record.to_string(),
                }
                .into_bytes()
            }
            _ => rng.maybe_broken_json().into_bytes(),
        };
        Ok(HttpResponse { status, headers, body })
    }

    fn sleep(&self, _duration: Duration) {}
}

fn check(seed: u64, what: &str, result: Result<String, ConnectorError>) {
    if let (Err(e), Ok(_)) = (&result, std::env::var("FUZZ_DEBUG")) {
        let text = e.to_string();
        println!("KIND {}", text.split(':').take(2).collect::<Vec<_>>().join(":"));
    }
    if let Err(error) = result {
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(SECRET), "seed {seed}: {what} leaked the secret: {shown}");
        if let ConnectorError::InvalidConfig(m) | ConnectorError::InvalidInput(m) = &error {
            assert!(m.contains(':'), "seed {seed}: {what}: the message names no field: {m}");
        }
    }
}

/// What a case reached, for the coverage check.
#[derive(Default)]
struct Reached {
    opened: u64,
    calls: u64,
    ok: u64,
}

fn case(seed: u64, reached: &mut Reached) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let api_types = [
        "purchase",
        "post-purchase",
        "settlements",
        "disputes",
        "shipping-assistant",
        "network",
        "post-purchase",
        "settlements",
    ];
    let auth = match rng.below(6) {
        4 | 5 => Auth::Basic { username: String::new(), password: Secret::new(format!("klarna_test_api_{SECRET}")) },
        0 => Auth::Token(Secret::new(format!("{SECRET}{}", rng.text()))),
        1 => Auth::OAuth2 { client_id: rng.text(), client_secret: Secret::new(SECRET), scopes: vec![rng.text()] },
        _ => Auth::Basic {
            username: if rng.below(4) == 0 { rng.text() } else { "PK1_x".into() },
            password: Secret::new(SECRET),
        },
    };
    let config = ConnectionConfig {
        api_type: if rng.below(5) == 0 { rng.text() } else { rng.pick(&api_types).to_string() },
        environment: rng
            .pick(&["playground", "production", "playground", "production", "playground", "production", "test", ""])
            .to_string(),
        region: rng.pick(&["eu", "na", "oc", "eu", "na", "oc", "xx"]).to_string(),
        auth,
        settings: if rng.below(2) == 0 {
            vec![]
        } else {
            rng.pairs(&[
                "order_id",
                "session_id",
                "timeout_ms",
                "max_attempts",
                "retry_budget_ms",
                "retry_delay_ms",
                "shipment_id",
            ])
        },
    };
    let transport = RandomKlarna(RefCell::new(Rng(seed ^ 0xabcdef | 1)));
    let connection = match Connection::open(config, transport) {
        Ok(c) => c,
        Err(e) => return check(seed, "open", Err(e)),
    };
    reached.opened += 1;
    check(seed, "test", connection.test());
    let entities: &[&str] = match connection.config().api_type.id {
        "settlements" => &["payouts", "transactions", "payout", "order"],
        _ => &["order", "order-captures", "order-capture", "order-refunds", "order-cancel", "payouts"],
    };
    let path_keys = ["order_id", "capture_id", "refund_id", "payment_reference"];
    for _ in 0..4 {
        let entity = if rng.below(6) == 0 { rng.text() } else { rng.pick(entities).to_string() };
        let clean_path = vec![("order_id".to_string(), "o1".to_string()), ("capture_id".to_string(), "c1".to_string())];
        let path = match rng.below(3) {
            0 => rng.pairs(&path_keys),
            1 => clean_path[..1].to_vec(),
            _ => clean_path,
        };
        let params = Params {
            path,
            query: rng.pairs(&["size", "offset", "payment_reference"]),
            payload: match rng.below(4) {
                0 => None,
                1 => Some(r#"{"captured_amount": 100}"#.to_string()),
                _ => Some(rng.maybe_broken_json()),
            },
        };
        if rng.below(2) == 0 {
            let request = SubscribeRequest {
                entity,
                params,
                cursor: (rng.below(3) == 0).then(|| rng.text()),
                page_size: (rng.below(2) == 0).then(|| rng.next() as u32 % 1000),
            };
            let result = connection.subscribe(&request).map(|p| format!("{p:?}"));
            reached.calls += 1;
            reached.ok += u64::from(result.is_ok());
            check(seed, "subscribe", result);
        } else {
            let method =
                [Method::POST, Method::POST, Method::POST, Method::GET, Method::PUT, Method::PATCH, Method::DELETE]
                    [rng.below(7)]
                .clone();
            let key = (rng.below(3) == 0).then(|| rng.text());
            let request = PublishRequest { entity, method, params, idempotency_key: key };
            let result = connection.publish(&request).map(|p| format!("{p:?}"));
            reached.calls += 1;
            reached.ok += u64::from(result.is_ok());
            check(seed, "publish", result);
        }
    }
}

#[test]
fn random_inputs_and_answers_never_panic() {
    let cases: u64 = std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000);
    let first: u64 = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let mut reached = Reached::default();
    for seed in first..first + cases {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(seed, &mut reached)));
        if let Err(panic) = outcome {
            panic!("seed {seed} panicked (replay: FUZZ_SEED={seed} FUZZ_CASES=1): {panic:?}");
        }
    }
    println!("{cases} cases: {} connections opened, {} calls, {} succeeded", reached.opened, reached.calls, reached.ok);
    if cases >= 1_000 {
        assert!(reached.opened * 10 >= cases, "too few cases get past open: {}", reached.opened);
        assert!(reached.ok > 0, "no call ever succeeded: the inputs are too broken to test anything");
    }
}

/// Random file records, payment requests and header parameters through the
/// checks that run before sending: never a panic; an accepted upload is one
/// well-formed `multipart/form-data` part holding exactly the file.
#[test]
fn random_uploads_payment_requests_and_headers_never_panic() {
    use base64::Engine as _;
    use klarna_connector::manifest::Manifest;
    use klarna_connector::{header_params, payment_request, upload};

    let cases: u64 = std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000);
    let first: u64 = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let manifest = Manifest::get();
    let uploads = manifest.entity("dispute-attachments").and_then(|e| e.upload.as_ref()).expect("an upload entity");
    let requests = manifest.entity("payment-requests").expect("payment requests");
    let mut accepted = 0u64;
    for seed in first..first + cases {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let file: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
        let content_base64 = match rng.below(4) {
            0 => rng.text(),
            _ => base64::engine::general_purpose::STANDARD.encode(&file),
        };
        let content_type = rng.pick(&["application/pdf", "image/png", "IMAGE/JPEG; x=1", "text/html", ""]).to_string();
        let extension = rng.pick(&["pdf", "png", "jpg", "JPEG", "docx", "exe", ""]);
        let filename = format!("{}.{extension}", rng.text());
        let record =
            serde_json::json!({"content_type": content_type, "filename": filename, "content_base64": content_base64});
        let outcome = std::panic::catch_unwind(|| upload::encode(uploads, &record));
        match outcome {
            Err(panic) => panic!("seed {seed}: upload panicked: {panic:?}"),
            Ok(Ok(multipart)) => {
                accepted += 1;
                let boundary = multipart.content_type.strip_prefix("multipart/form-data; boundary=").expect("boundary");
                let decoded = base64::engine::general_purpose::STANDARD.decode(&content_base64).expect("was valid");
                let tail = format!("\r\n--{boundary}--\r\n");
                assert!(multipart.body.ends_with(tail.as_bytes()), "seed {seed}: closed by the boundary");
                let head_len = multipart.body.len() - tail.len() - decoded.len();
                assert_eq!(&multipart.body[head_len..head_len + decoded.len()], decoded.as_slice(), "seed {seed}");
                assert!(!decoded.windows(boundary.len()).any(|w| w == boundary.as_bytes()), "seed {seed}");
            }
            Ok(Err(ConnectorError::InvalidInput(_))) => {}
            Ok(Err(other)) => panic!("seed {seed}: an upload check gave {other:?}"),
        }
        let payload: serde_json::Value = serde_json::from_str(&rng.json(0)).unwrap_or_default();
        for check in [payment_request::check, payment_request::check_authorization] {
            match std::panic::catch_unwind(|| check(&payload)) {
                Err(panic) => panic!("seed {seed}: a payment check panicked: {panic:?}"),
                Ok(Err(ConnectorError::InvalidInput(_)) | Ok(())) => {}
                Ok(Err(other)) => panic!("seed {seed}: a payment check gave {other:?}"),
            }
        }
        let query = rng.pairs(&["Partner-Correlation-Id", "Klarna-Interoperability-Token", "Klarna-Customer-Token"]);
        match std::panic::catch_unwind(|| header_params::split(requests, &query)) {
            Err(panic) => panic!("seed {seed}: header parameters panicked: {panic:?}"),
            Ok(Ok((rest, headers))) => assert_eq!(rest.len() + headers.len(), query.len(), "seed {seed}"),
            Ok(Err(ConnectorError::InvalidInput(_))) => {}
            Ok(Err(other)) => panic!("seed {seed}: header parameters gave {other:?}"),
        }
    }
    println!("{cases} cases: {accepted} uploads accepted");
    if cases >= 1_000 {
        assert!(accepted > 0, "no upload was ever accepted: the inputs are too broken to test anything");
    }
}
