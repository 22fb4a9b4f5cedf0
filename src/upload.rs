//! File uploads. The payload is a file record `{content_type, filename,
//! content_base64}`, the shape file reads return, so a downloaded file can be
//! published back unchanged. It is checked against the entity's
//! [`UploadSpec`] (type, extension, size) and sent as one
//! `multipart/form-data` part (RFC 7578).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;
use uuid::Uuid;

use crate::error::{ConnectorError, Result};
use crate::manifest::UploadSpec;

/// Namespace of boundaries (a fixed, random UUID of this connector).
const BOUNDARY_NAMESPACE: Uuid = Uuid::from_u128(0x0b5d_77a1_2c4e_4f19_9a3b_d1e8_65c0_f472);

/// Longest file name Klarna accepts, without its extension.
const MAX_NAME_CHARS: usize = 1000;

/// A request body ready to send.
#[derive(Debug)]
pub struct Multipart {
    /// `multipart/form-data; boundary=...`.
    pub content_type: String,
    /// The encoded body.
    pub body: Vec<u8>,
}

/// The largest payload text an upload may have: the file in base64 plus room
/// for the record's other fields.
pub fn max_payload_chars(spec: &UploadSpec) -> usize {
    usize::try_from(spec.max_bytes.div_ceil(3) * 4).unwrap_or(usize::MAX).saturating_add(8 * 1024)
}

/// Checks the file record in `payload` and encodes it as `multipart/form-data`.
pub fn encode(spec: &UploadSpec, payload: &Value) -> Result<Multipart> {
    let text = |key: &str| payload.get(key).and_then(Value::as_str);
    let content_type = text("content_type")
        .ok_or_else(|| ConnectorError::input("params.payload.content_type", "required (e.g. application/pdf)"))?;
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let accepted: Vec<&str> = spec.types.iter().map(|(t, _)| *t).collect();
    let Some((_, extensions)) = spec.types.iter().find(|(t, _)| *t == essence) else {
        return Err(ConnectorError::input(
            "params.payload.content_type",
            format!("{content_type:?} is not accepted (accepted: {})", accepted.join(", ")),
        ));
    };
    let filename = text("filename").ok_or_else(|| ConnectorError::input("params.payload.filename", "required"))?;
    check_filename(filename, extensions)?;
    let encoded = text("content_base64")
        .ok_or_else(|| ConnectorError::input("params.payload.content_base64", "required (the file in base64)"))?;
    let decoded = if encoded.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: Vec<u8> = encoded.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        STANDARD.decode(compact)
    } else {
        STANDARD.decode(encoded)
    };
    let file = decoded
        .map_err(|e| ConnectorError::input("params.payload.content_base64", format!("not valid base64: {e}")))?;
    if file.is_empty() {
        return Err(ConnectorError::input("params.payload.content_base64", "the file is empty"));
    }
    if file.len() as u64 > spec.max_bytes {
        return Err(ConnectorError::input(
            "params.payload.content_base64",
            format!("{} bytes is over Klarna's limit of {} bytes", file.len(), spec.max_bytes),
        ));
    }
    let boundary = boundary_for(&file);
    let mut body = Vec::with_capacity(file.len() + 256);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{filename}\"\r\nContent-Type: {essence}\r\n\r\n",
            spec.part
        )
        .as_bytes(),
    );
    body.extend_from_slice(&file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Ok(Multipart { content_type: format!("multipart/form-data; boundary={boundary}"), body })
}

/// A name that can sit in a `Content-Disposition` header and whose extension
/// matches the content type.
fn check_filename(filename: &str, extensions: &[&str]) -> Result<()> {
    let field = "params.payload.filename";
    if filename.chars().any(|c| matches!(c, '"' | '\\' | '/') || c.is_control()) {
        return Err(ConnectorError::input(field, "must not contain quotes, slashes or control characters"));
    }
    let (stem, extension) = filename.rsplit_once('.').unwrap_or((filename, ""));
    if stem.is_empty() || stem.chars().count() > MAX_NAME_CHARS {
        return Err(ConnectorError::input(field, format!("needs a name of 1 to {MAX_NAME_CHARS} characters")));
    }
    if !extensions.iter().any(|e| e.eq_ignore_ascii_case(extension)) {
        let expected: Vec<String> = extensions.iter().map(|e| format!(".{e}")).collect();
        return Err(ConnectorError::input(
            field,
            format!("the extension must match the content type ({}), got {filename:?}", expected.join(" or ")),
        ));
    }
    Ok(())
}

/// A boundary derived from the file (the same file, the same body), and
/// absent from it.
fn boundary_for(file: &[u8]) -> String {
    let mut boundary = format!("klarna-connector-{}", crate::idempotency::uuid_v5(&BOUNDARY_NAMESPACE, file).simple());
    while file.windows(boundary.len()).any(|w| w == boundary.as_bytes()) {
        boundary.push('x');
    }
    boundary
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A 16-byte limit, PDF and JPEG.
    fn spec() -> UploadSpec {
        UploadSpec {
            part: "file",
            max_bytes: 16,
            types: &[("application/pdf", &["pdf"]), ("image/jpeg", &["jpg", "jpeg"])],
        }
    }

    fn record(content_type: &str, filename: &str, content: &[u8]) -> Value {
        json!({
            "content_type": content_type,
            "filename": filename,
            "content_base64": STANDARD.encode(content),
        })
    }

    fn reason(payload: Value) -> String {
        match encode(&spec(), &payload) {
            Err(ConnectorError::InvalidInput(message)) => message,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn a_file_record_becomes_one_form_part() {
        let upload = encode(&spec(), &record("application/pdf", "receipt.PDF", b"%PDF-1.4 x")).expect("encoded");
        let boundary = upload.content_type.strip_prefix("multipart/form-data; boundary=").expect("boundary");
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"receipt.PDF\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 x\r\n--{boundary}--\r\n"
        );
        assert_eq!(String::from_utf8(upload.body).expect("text"), expected);
        let again = encode(&spec(), &record("application/pdf", "receipt.PDF", b"%PDF-1.4 x")).expect("encoded");
        assert_eq!(again.content_type, upload.content_type, "the same file, the same body");
    }

    #[test]
    fn the_boundary_is_absent_from_the_file() {
        for file in [&b"--klarna-connector-"[..], b"\r\n--", &[0xff; 64]] {
            let boundary = boundary_for(file);
            assert!(!file.windows(boundary.len()).any(|w| w == boundary.as_bytes()));
        }
    }

    #[test]
    fn type_name_and_size_are_checked() {
        assert!(reason(record("image/png", "a.png", b"x"))
            .contains("is not accepted (accepted: application/pdf, image/jpeg)"));
        assert!(reason(record("application/pdf", "a.jpg", b"x")).contains("must match the content type (.pdf)"));
        assert!(reason(record("application/pdf", "dir/a.pdf", b"x")).contains("slashes"));
        assert!(reason(record("application/pdf", ".pdf", b"x")).contains("needs a name"));
        assert!(reason(record("image/jpeg", "a.jpeg", &[0; 17])).contains("17 bytes is over Klarna's limit of 16"));
        assert!(reason(record("image/jpeg", "a.jpeg", b"")).contains("empty"));
        assert!(reason(json!({"content_type": "image/jpeg", "filename": "a.jpg", "content_base64": "%%"}))
            .contains("not valid base64"));
        assert!(reason(json!({"filename": "a.jpg"})).starts_with("params.payload.content_type: required"));
        assert!(encode(&spec(), &record("image/jpeg; charset=binary", "a.JPG", &[0; 16])).is_ok());
    }
}
