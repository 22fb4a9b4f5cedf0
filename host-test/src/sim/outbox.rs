//! What Klarna sends to merchants: deliveries the simulator would POST to the
//! URLs a merchant registered (webhooks, `merchant_urls`), kept in an outbox
//! for the test host to hand to the connector as its public endpoint would.

/// One request Klarna sends to a merchant URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// `POST` (every Klarna push documented so far).
    pub method: String,
    /// The registered URL, Klarna's placeholders filled in.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body, byte for byte.
    pub body: Vec<u8>,
}

impl Outgoing {
    /// A JSON POST.
    pub fn json(url: String, body: &serde_json::Value) -> Self {
        Self {
            method: "POST".into(),
            url,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// The path and query after `mount` (the URL's start a merchant gave
    /// Klarna for the connection), or `None` when it goes elsewhere.
    pub fn path_after(&self, mount: &str) -> Option<String> {
        self.url.strip_prefix(mount.trim_end_matches('/')).filter(|rest| rest.starts_with('/')).map(str::to_string)
    }
}
