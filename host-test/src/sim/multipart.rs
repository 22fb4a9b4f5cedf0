//! A `multipart/form-data` reader (RFC 7578), for the upload endpoints.

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
    let mut params = content_type.split(';').map(str::trim);
    if !params.next().is_some_and(|t| t.eq_ignore_ascii_case("multipart/form-data")) {
        return Err(format!("Content-Type must be multipart/form-data, got {content_type:?}"));
    }
    let boundary = params
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or("the Content-Type has no boundary")?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut rest = body.strip_prefix(delimiter.as_slice()).ok_or("the body does not start with the boundary")?;
    let mut parts = vec![];
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest.strip_prefix(b"\r\n").ok_or("a boundary must end its line")?;
        let header_end = find(rest, b"\r\n\r\n").ok_or("a part has no end of headers")?;
        let headers = std::str::from_utf8(&rest[..header_end]).map_err(|_| "part headers are not UTF-8")?;
        rest = &rest[header_end + 4..];
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(&delimiter);
        let body_end = find(rest, &closing).ok_or("a part is not closed by the boundary")?;
        parts.push(part(headers, rest[..body_end].to_vec())?);
        rest = &rest[body_end + closing.len()..];
    }
}

fn part(headers: &str, body: Vec<u8>) -> Result<Part, String> {
    let mut name = None;
    let mut filename = None;
    let mut content_type = "text/plain".to_string();
    for line in headers.split("\r\n") {
        let (key, value) = line.split_once(':').ok_or_else(|| format!("malformed part header {line:?}"))?;
        if key.trim().eq_ignore_ascii_case("Content-Disposition") {
            for param in value.split(';').map(str::trim).skip(1) {
                match param.split_once('=') {
                    Some(("name", v)) => name = Some(v.trim_matches('"').to_string()),
                    Some(("filename", v)) => filename = Some(v.trim_matches('"').to_string()),
                    _ => {}
                }
            }
        } else if key.trim().eq_ignore_ascii_case("Content-Type") {
            content_type = value.trim().to_string();
        }
    }
    Ok(Part { name: name.ok_or("a part has no name")?, filename, content_type, body })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
