//! A `multipart/form-data` reader (RFC 7578), for the upload endpoints: the
//! `multer` crate, run to completion on the body at hand.

use bytes::Bytes;

/// One part of a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The form field (`name` of `Content-Disposition`).
    pub name: String,
    /// The file name, when the part is a file.
    pub filename: Option<String>,
    /// The part's `Content-Type`, `text/plain` when absent.
    pub content_type: String,
    /// The part's bytes.
    pub body: Vec<u8>,
}

/// The parts of `body`, sent with `content_type`; `Err` says what is malformed.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, String> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| format!("Content-Type {content_type:?}: {e}"))?;
    let stream =
        futures_util::stream::once(std::future::ready(Ok::<_, std::convert::Infallible>(Bytes::copy_from_slice(body))));
    let mut form = multer::Multipart::new(stream, boundary);
    futures_executor::block_on(async {
        let mut parts = Vec::new();
        while let Some(field) = form.next_field().await.map_err(|e| e.to_string())? {
            let name = field.name().ok_or("a part has no name")?.to_string();
            let filename = field.file_name().map(str::to_string);
            let content_type = field.content_type().map_or("text/plain".to_string(), |m| m.to_string());
            let body = field.bytes().await.map_err(|e| e.to_string())?.to_vec();
            parts.push(Part { name, filename, content_type, body });
        }
        Ok(parts)
    })
}
