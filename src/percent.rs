//! Percent-encoding (RFC 3986 §2.1): `%` and two upper-case hex digits for
//! each byte of a set, every byte of a multi-byte UTF-8 character included.
//!
//! The connector encodes path segments and query components with
//! [`COMPONENT`] (all but the unreserved characters), the `Location` of a
//! shipping reservation with [`SEGMENT`], and decodes callback paths, query
//! strings and paging cursors with [`decode`] and [`decode_form`]. This replaced the
//! `percent-encoding` crate (whose `Display` path pulled in more formatting
//! code than the encoding itself); `tests/percent.rs` holds both directions
//! to that crate.

/// The ASCII bytes a form encodes; bytes from 0x80 up are always encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsciiSet {
    /// Bit `b` is set when byte `b` is encoded.
    bits: u128,
}

impl AsciiSet {
    /// The C0 controls and DEL, the bytes every form encodes.
    pub const CONTROLS: AsciiSet = AsciiSet { bits: ((1 << 0x20) - 1) | (1 << 0x7f) };

    /// This set with `byte` encoded too.
    pub const fn add(self, byte: u8) -> AsciiSet {
        AsciiSet { bits: self.bits | bit(byte) }
    }

    /// This set with `byte` left as it is.
    pub const fn remove(self, byte: u8) -> AsciiSet {
        AsciiSet { bits: self.bits & !bit(byte) }
    }

    /// Whether `byte` is written as `%XX`.
    pub const fn encodes(&self, byte: u8) -> bool {
        byte >= 0x80 || self.bits & bit(byte) != 0
    }
}

/// The bit of an ASCII byte (none for the others, which are always encoded).
const fn bit(byte: u8) -> u128 {
    if byte < 0x80 {
        1 << byte
    } else {
        0
    }
}

/// Every ASCII byte but the letters and digits.
const NON_ALPHANUMERIC: AsciiSet =
    AsciiSet { bits: !((((1 << 10) - 1) << b'0') | (((1 << 26) - 1) << b'A') | (((1 << 26) - 1) << b'a')) };

/// A path segment or a query component: everything but RFC 3986's
/// unreserved characters (`A–Z a–z 0–9 - . _ ~`) is encoded.
pub const COMPONENT: AsciiSet = NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A path segment of a URL the connector hands back (a `Location`): the
/// controls, space, `" # % / < > ? `` ` `` { }` are encoded, the other
/// segment characters stay.
pub const SEGMENT: AsciiSet = AsciiSet::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `text` with each byte of `set` written as `%XX`.
pub fn encode(text: &str, set: &AsciiSet) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if set.encodes(byte) {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            // An ASCII byte (the set encodes all others) is its own char.
            out.push(char::from(byte));
        }
    }
    out
}

/// The bytes `text` stands for: each `%` followed by two hex digits (either
/// case) is that byte, anything else (a lone `%` included) is kept as it is.
pub fn decode(text: &str) -> Vec<u8> {
    decode_bytes(text, false)
}

/// [`decode`] for a query component as forms write it: a `+` is a space
/// (an encoded `%2B` stays a plus).
pub fn decode_form(text: &str) -> Vec<u8> {
    decode_bytes(text, true)
}

fn decode_bytes(text: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let escaped = match (byte, bytes.get(at + 1), bytes.get(at + 2)) {
            (b'%', Some(&high), Some(&low)) => hex(high).zip(hex(low)).map(|(h, l)| (h << 4) | l),
            _ => None,
        };
        match escaped {
            Some(value) => {
                out.push(value);
                at += 3;
            }
            None => {
                out.push(if plus_is_space && byte == b'+' { b' ' } else { byte });
                at += 1;
            }
        }
    }
    out
}

/// The value of one hex digit.
fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_keep_only_unreserved_characters() {
        assert_eq!(encode("a-b._~Z9 /?&=+%é", &COMPONENT), "a-b._~Z9%20%2F%3F%26%3D%2B%25%C3%A9");
    }

    #[test]
    fn segments_keep_sub_delimiters() {
        assert_eq!(
            encode("a b/c?d#e%f{g}h`i\"j<k>l\u{7f}m;n=o&p@q", &SEGMENT),
            "a%20b%2Fc%3Fd%23e%25f%7Bg%7Dh%60i%22j%3Ck%3El%7Fm;n=o&p@q"
        );
    }

    #[test]
    fn decoding_keeps_what_is_not_an_escape() {
        assert_eq!(decode("%41%2f%2F%zz%4%"), b"A//%zz%4%");
        assert_eq!(decode("%C3%A9"), "é".as_bytes());
    }
}
