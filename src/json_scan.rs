//! Where JSON values begin and end in a text, with their syntax checked on
//! the way, without building them. This is the record path of every read:
//! a page of 500 records is cut into 500 slices of Klarna's own text, so the
//! scanner is written to do little per byte: string contents are skipped
//! eight bytes at a time, and the small steps are inlined by hand (the
//! component is built for size, where the compiler would leave them calls).
//!
//! It accepts exactly what serde_json accepts when it skips a value
//! (`IgnoredAny`): RFC 8259's grammar, any nesting depth, escapes checked for
//! form (`\uD800` alone passes, as there). The text is a `&str`, so its UTF-8
//! was checked once by the caller. `tests/json_scan.rs` holds it to
//! serde_json on generated and mutated texts.

use std::borrow::Cow;
use std::fmt;

/// Where a text stops being the JSON expected, and what was expected there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset into the text.
    pub offset: usize,
    /// What would have been valid at that offset.
    pub expected: &'static str,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {} at byte {}", self.expected, self.offset)
    }
}

pub type Result<T> = std::result::Result<T, SyntaxError>;

/// A cursor over one JSON text.
pub struct Scanner<'a> {
    text: &'a str,
    at: usize,
    /// The closing bytes (`}` or `]`) of the containers open in [`Scanner::value`],
    /// kept between values so a page's records reuse one allocation.
    open: Vec<u8>,
}

const ONES: u64 = u64::from_le_bytes([1; 8]);
const HIGH_BITS: u64 = ONES << 7;

/// The bytes of `word` that end or escape a string, or are control
/// characters (which JSON forbids in strings), as their high bits. The
/// lowest one set is exact; ones above it may be false alarms.
#[inline(always)]
fn string_specials(word: u64) -> u64 {
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (zero_quote | zero_backslash | control) & HIGH_BITS
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Scanner { text, at: 0, open: Vec::new() }
    }

    #[inline(always)]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    #[inline(always)]
    fn error(&self, expected: &'static str) -> SyntaxError {
        SyntaxError { offset: self.at, expected }
    }

    /// The next byte that is not whitespace; the whitespace is consumed,
    /// the byte is not.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.at) {
            self.at += 1;
        }
        bytes.get(self.at).copied()
    }

    /// Consumes `byte` (after whitespace), or fails expecting `what`.
    #[inline(always)]
    pub fn expect(&mut self, byte: u8, what: &'static str) -> Result<()> {
        match self.peek() {
            Some(b) if b == byte => {
                self.at += 1;
                Ok(())
            }
            _ => Err(self.error(what)),
        }
    }

    /// Consumes `byte` (after whitespace) if it is next.
    #[inline(always)]
    pub fn eat(&mut self, byte: u8) -> bool {
        let next = matches!(self.peek(), Some(b) if b == byte);
        self.at += usize::from(next);
        next
    }

    /// After a member or an element: `,` (true, another follows) or the
    /// container's `close` (false, it ended).
    #[inline(always)]
    pub fn comma_or(&mut self, close: u8) -> Result<bool> {
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                Ok(true)
            }
            Some(b) if b == close => {
                self.at += 1;
                Ok(false)
            }
            _ => Err(self.error(if close == b'}' { "`,` or `}`" } else { "`,` or `]`" })),
        }
    }

    /// Only whitespace is left.
    pub fn end(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("the end of the text")),
        }
    }

    /// An object key and its `:`; the key decoded (one with a `\u` escape of
    /// a lone surrogate is an error, as it is when serde_json reads keys).
    pub fn key(&mut self) -> Result<Cow<'a, str>> {
        self.peek();
        let start = self.at;
        self.member_key()?;
        // Between the quotes, before the `:` and any whitespace.
        let end = self.text[..self.at - 1].trim_end_matches([' ', '\t', '\n', '\r']).len() - 1;
        unescape(&self.text[start + 1..end]).ok_or(SyntaxError { offset: start, expected: "a key with valid escapes" })
    }

    /// Where the scanner is: a byte offset into the text.
    pub fn offset(&self) -> usize {
        self.at
    }

    /// An object key and its `:`, checked and skipped.
    #[inline(always)]
    fn member_key(&mut self) -> Result<()> {
        if !matches!(self.peek(), Some(b'"')) {
            return Err(self.error("a string key"));
        }
        self.string()?;
        self.expect(b':', "`:`")
    }

    /// The next value, checked whole (after whitespace); its text.
    pub fn value(&mut self) -> Result<&'a str> {
        self.peek();
        let start = self.at;
        self.open.clear();
        'value: loop {
            match self.peek() {
                Some(b'{') => {
                    self.at += 1;
                    if !self.eat(b'}') {
                        self.open.push(b'}');
                        self.member_key()?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.at += 1;
                    if !self.eat(b']') {
                        self.open.push(b']');
                        continue 'value;
                    }
                }
                Some(b'"') => self.string()?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.word(b"true")?,
                Some(b'f') => self.word(b"false")?,
                Some(b'n') => self.word(b"null")?,
                _ => return Err(self.error("a value")),
            }
            // A value ended: close what it ended, until a `,` asks for the next.
            while let Some(&close) = self.open.last() {
                if self.comma_or(close)? {
                    if close == b'}' {
                        self.member_key()?;
                    }
                    continue 'value;
                }
                self.open.pop();
            }
            return Ok(&self.text[start..self.at]);
        }
    }

    /// A string, from its opening quote to past its closing one.
    #[inline(always)]
    fn string(&mut self) -> Result<()> {
        let bytes = self.bytes();
        self.at += 1;
        loop {
            if let Some(rest) = bytes.get(self.at..) {
                // Straight to the first special byte, eight bytes at a time.
                for chunk in rest.chunks_exact(8) {
                    let Ok(word) = <[u8; 8]>::try_from(chunk) else { break };
                    let specials = string_specials(u64::from_le_bytes(word));
                    if specials != 0 {
                        self.at += (specials.trailing_zeros() / 8) as usize;
                        break;
                    }
                    self.at += 8;
                }
            }
            match bytes.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.at += 1;
                    match bytes.get(self.at) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.at += 1,
                        Some(b'u') => {
                            self.at += 1;
                            for _ in 0..4 {
                                match bytes.get(self.at) {
                                    Some(b) if b.is_ascii_hexdigit() => self.at += 1,
                                    _ => return Err(self.error("a hex digit")),
                                }
                            }
                        }
                        _ => return Err(self.error("an escape")),
                    }
                }
                Some(0..=0x1f) => return Err(self.error("no control character in a string")),
                Some(_) => self.at += 1,
                None => return Err(self.error("a closing `\"`")),
            }
        }
    }

    #[inline(always)]
    fn digits(&mut self) -> Result<()> {
        let bytes = self.bytes();
        if !bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Err(self.error("a digit"));
        }
        while bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        Ok(())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    #[inline(always)]
    fn number(&mut self) -> Result<()> {
        let bytes = self.bytes();
        if matches!(bytes.get(self.at), Some(b'-')) {
            self.at += 1;
        }
        if matches!(bytes.get(self.at), Some(b'0')) {
            self.at += 1;
        } else {
            self.digits()?;
        }
        if matches!(bytes.get(self.at), Some(b'.')) {
            self.at += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = bytes.get(self.at) {
                self.at += 1;
            }
            self.digits()?;
        }
        Ok(())
    }

    fn word(&mut self, word: &'static [u8]) -> Result<()> {
        if self.bytes().get(self.at..self.at + word.len()) != Some(word) {
            return Err(self.error(match word {
                b"true" => "`true`",
                b"false" => "`false`",
                _ => "`null`",
            }));
        }
        self.at += word.len();
        Ok(())
    }
}

/// A string's contents (the text between its quotes, as the scanner
/// checked it) with its escapes decoded; `None` when a `\u` escape is a lone
/// surrogate, which is no character (serde_json refuses it too).
pub fn unescape(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('\\') {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escaped = &rest[at + 1..];
        let (c, after) = match escaped.as_bytes().first()? {
            b'"' => ('"', &escaped[1..]),
            b'\\' => ('\\', &escaped[1..]),
            b'/' => ('/', &escaped[1..]),
            b'b' => ('\u{8}', &escaped[1..]),
            b'f' => ('\u{c}', &escaped[1..]),
            b'n' => ('\n', &escaped[1..]),
            b'r' => ('\r', &escaped[1..]),
            b't' => ('\t', &escaped[1..]),
            b'u' => code_point(&escaped[1..])?,
            _ => return None,
        };
        out.push(c);
        rest = after;
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

/// The character of a `\u` escape (its four hex digits first in `text`,
/// with a second escape after a high surrogate), and the text after it.
fn code_point(text: &str) -> Option<(char, &str)> {
    let hex4 = |text: &str| {
        let digits = text.get(..4).filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))?;
        u32::from_str_radix(digits, 16).ok()
    };
    let first = hex4(text)?;
    match first {
        0xd800..=0xdbff => {
            let low_text = text[4..].strip_prefix("\\u")?;
            let low = hex4(low_text).filter(|low| (0xdc00..=0xdfff).contains(low))?;
            Some((char::from_u32(0x10000 + ((first - 0xd800) << 10) + (low - 0xdc00))?, &low_text[4..]))
        }
        _ => Some((char::from_u32(first)?, &text[4..])),
    }
}

/// The value of the member `name` of the object `record` (a record the
/// scanner has checked), as text: a string's contents with their escapes
/// decoded, a number or a literal as written. `None` when `record` is not an
/// object or has no such member (a member given twice counts the last time).
pub fn member<'a>(record: &'a str, name: &str) -> Option<Cow<'a, str>> {
    let mut scanner = Scanner::new(record);
    scanner.expect(b'{', "an object").ok()?;
    let mut found = None;
    if !scanner.eat(b'}') {
        loop {
            let key = scanner.key().ok()?;
            let value = scanner.value().ok()?;
            if key == name {
                found = Some(value);
            }
            if !scanner.comma_or(b'}').ok()? {
                break;
            }
        }
    }
    let value = found?;
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(contents) => unescape(contents),
        None => Some(Cow::Borrowed(value)),
    }
}

/// What `read` reads from the start of `text`, when only whitespace follows
/// it: a whole text as one value (`whole(text, Scanner::value)`), or as
/// whatever `read` expects.
pub fn whole<'a, T>(text: &'a str, read: impl FnOnce(&mut Scanner<'a>) -> Result<T>) -> Result<T> {
    let mut scanner = Scanner::new(text);
    let read = read(&mut scanner)?;
    scanner.end()?;
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_alone(text: &str) -> Result<&str> {
        whole(text, Scanner::value)
    }

    #[test]
    fn values_are_cut_at_their_ends() {
        assert_eq!(
            value_alone(r#" {"a":[1,-2.5e+3,"x\"\u00e9"],"b":{}} "#),
            Ok(r#"{"a":[1,-2.5e+3,"x\"\u00e9"],"b":{}}"#)
        );
        assert_eq!(value_alone("[ ]"), Ok("[ ]"));
        assert_eq!(value_alone("0"), Ok("0"));
    }

    #[test]
    fn errors_say_where_and_what() {
        assert_eq!(value_alone(r#"{"a" 1}"#), Err(SyntaxError { offset: 5, expected: "`:`" }));
        assert_eq!(value_alone("[1,]"), Err(SyntaxError { offset: 3, expected: "a value" }));
        assert_eq!(value_alone("01"), Err(SyntaxError { offset: 1, expected: "the end of the text" }));
        assert_eq!(
            value_alone("\"ab\ncd\""),
            Err(SyntaxError { offset: 3, expected: "no control character in a string" })
        );
        assert_eq!(value_alone(r#""\x""#), Err(SyntaxError { offset: 2, expected: "an escape" }));
    }

    #[test]
    fn the_first_string_special_byte_is_found_in_any_lane() {
        for lane in 0..8 {
            for special in [b'"', b'\\', 0, 0x1f] {
                let mut word = [b'a'; 8];
                word[lane] = special;
                // A second special byte above the first must not hide it.
                if lane < 7 {
                    word[7] = b'"';
                }
                let specials = string_specials(u64::from_le_bytes(word));
                assert_eq!(specials.trailing_zeros() / 8, lane as u32, "{special:#x} in lane {lane}");
            }
            let mut word = [b' '; 8];
            word[lane] = 0xc3;
            assert_eq!(string_specials(u64::from_le_bytes(word)), 0, "a UTF-8 byte in lane {lane}");
        }
    }

    #[test]
    fn members_are_found_by_name() {
        let record = r#"{"a":1,"payout_date":"2026-01-15T00:00:00Z","n":{"payout_date":"x"},"e":"\u00e9","a":2}"#;
        assert_eq!(member(record, "payout_date").as_deref(), Some("2026-01-15T00:00:00Z"));
        assert_eq!(member(record, "e").as_deref(), Some("é"));
        assert_eq!(member(record, "a").as_deref(), Some("2"), "the last time counts");
        assert_eq!(member(record, "missing"), None);
        assert_eq!(member("[1]", "a"), None);
    }

    #[test]
    fn keys_are_decoded() {
        let key = |text| Scanner::new(text).key();
        assert_eq!(key(r#" "records" : 1"#), Ok(Cow::Borrowed("records")));
        assert_eq!(key(r#""rec\u006frds":1"#), Ok(Cow::Owned("records".to_string())));
        assert_eq!(key(r#"  "\ud800":1"#), Err(SyntaxError { offset: 2, expected: "a key with valid escapes" }));
        assert_eq!(key(r#""a" 1"#), Err(SyntaxError { offset: 4, expected: "`:`" }));
    }
}
