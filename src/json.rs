//! JSON values: what a host's payload, Klarna's answers and the connector's
//! own bodies are read into and written from. It follows serde_json's
//! `Value` (without its `preserve_order` and `arbitrary_precision` features),
//! whose names it keeps, so that the component links no serde machinery:
//!
//! - reading accepts what serde_json accepts (the grammar is checked by
//!   [`json_scan`]), nesting up to 127 levels (serde_json's limit); a key
//!   given twice keeps its last value; a lone surrogate escape in a string
//!   is an error;
//! - objects keep their keys sorted, so writing is canonical, and writing
//!   gives serde_json's compact text (the same escapes);
//! - one difference: a number that is not an integer (or is outside the
//!   64-bit range) is kept as written, not turned into an `f64`, so it is
//!   passed on to Klarna exactly and no float parsing or formatting is
//!   linked; so one beyond `f64`'s range (`1e309`), which serde_json
//!   refuses, is read (Klarna will refuse it).
//!
//! `tests/json_scan.rs` holds reading and writing to serde_json.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use crate::json_scan::{self, Scanner, SyntaxError};

/// An object: keys in sorted order.
pub type Map<K, V> = BTreeMap<K, V>;

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Map<String, Value>),
}

/// A JSON number: a 64-bit integer, or the text of any other number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number(N);

#[derive(Debug, Clone, PartialEq, Eq)]
enum N {
    PosInt(u64),
    NegInt(i64),
    /// As written: a fraction, an exponent, or an integer beyond 64 bits.
    Other(Box<str>),
}

impl Number {
    /// The number as an `i64`, when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            N::PosInt(n) => i64::try_from(n).ok(),
            N::NegInt(n) => Some(n),
            N::Other(_) => None,
        }
    }

    /// The number as a `u64`, when it is a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            N::PosInt(n) => Some(n),
            _ => None,
        }
    }

    /// The number's text, from a [`json_scan`] number token.
    fn from_token(token: &str) -> Self {
        let integer = !token.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
        match token.strip_prefix('-') {
            _ if !integer => Number(N::Other(token.into())),
            // `-0` is zero, as serde_json reads it.
            Some(digits) => match digits.parse::<u64>() {
                Ok(0) => Number(N::PosInt(0)),
                Ok(n) if n <= i64::MAX as u64 + 1 => Number(N::NegInt(0i64.wrapping_sub_unsigned(n))),
                _ => Number(N::Other(token.into())),
            },
            None => token.parse().map_or_else(|_| Number(N::Other(token.into())), |n| Number(N::PosInt(n))),
        }
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number(N::PosInt(n))
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        u64::try_from(n).map_or(Number(N::NegInt(n)), Number::from)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            N::PosInt(n) => write!(f, "{n}"),
            N::NegInt(n) => write!(f, "{n}"),
            N::Other(text) => f.write_str(text),
        }
    }
}

impl Value {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as an `i64`, if this is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number as a `u64`, if this is a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value a JSON Pointer (RFC 6901) names: `""` is this value,
    /// `/a/0` the first element of member `a`.
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let tokens = pointer.strip_prefix('/')?;
        tokens.split('/').try_fold(self, |value, token| {
            let token = unescape_pointer_token(token);
            match value {
                Value::Object(map) => map.get(&*token),
                Value::Array(items) => {
                    // Digits only, without a leading zero (as serde_json reads indexes).
                    let index = (!token.starts_with('+') && (token == "0" || !token.starts_with('0')))
                        .then(|| token.parse::<usize>().ok())??;
                    items.get(index)
                }
                _ => None,
            }
        })
    }
}

/// A JSON Pointer token with its escapes undone, read left to right:
/// `~1` is `/`, `~0` is `~` (so `~01` is `~1`), any other `~` stays.
fn unescape_pointer_token(token: &str) -> std::borrow::Cow<'_, str> {
    if !token.contains('~') {
        return token.into();
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('~', Some('0')) => {
                out.push('~');
                chars.next();
            }
            ('~', Some('1')) => {
                out.push('/');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out.into()
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::String(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::String(text)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n.into())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

/// An object of the given members (a later one of the same key wins).
pub fn object(members: Vec<(&str, Value)>) -> Value {
    // Inserted one by one: collecting would link a stable sort for these few members.
    let mut map = Map::new();
    for (key, value) in members {
        map.insert(key.to_string(), value);
    }
    Value::Object(map)
}

/// Deeper nesting is refused, as serde_json refuses it (its recursion limit).
const MAX_DEPTH: usize = 127;

/// Reads a whole JSON text.
pub fn from_str(text: &str) -> Result<Value, SyntaxError> {
    json_scan::whole(text, |scanner| read(scanner, 0))
}

/// Reads a whole JSON text given as bytes, which must be UTF-8.
pub fn from_slice(bytes: &[u8]) -> Result<Value, SyntaxError> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| SyntaxError { offset: e.valid_up_to(), expected: "UTF-8 text" })?;
    from_str(text)
}

fn read(scanner: &mut Scanner<'_>, depth: usize) -> Result<Value, SyntaxError> {
    let open = scanner.peek();
    if matches!(open, Some(b'{' | b'[')) && depth >= MAX_DEPTH {
        return Err(SyntaxError { offset: scanner.offset(), expected: "at most 127 levels of nesting" });
    }
    match open {
        Some(b'{') => {
            scanner.expect(b'{', "`{`")?;
            let mut map = Map::new();
            if !scanner.eat(b'}') {
                loop {
                    let key = scanner.key()?.into_owned();
                    map.insert(key, read(scanner, depth + 1)?);
                    if !scanner.comma_or(b'}')? {
                        break;
                    }
                }
            }
            Ok(Value::Object(map))
        }
        Some(b'[') => {
            scanner.expect(b'[', "`[`")?;
            let mut items = Vec::new();
            if !scanner.eat(b']') {
                loop {
                    items.push(read(scanner, depth + 1)?);
                    if !scanner.comma_or(b']')? {
                        break;
                    }
                }
            }
            Ok(Value::Array(items))
        }
        _ => {
            let start = scanner.offset();
            let token = scanner.value()?;
            Ok(match token.as_bytes().first() {
                Some(b'"') => Value::String(
                    json_scan::unescape(&token[1..token.len() - 1])
                        .ok_or(SyntaxError { offset: start, expected: "a string with valid escapes" })?
                        .into_owned(),
                ),
                Some(b't') => Value::Bool(true),
                Some(b'f') => Value::Bool(false),
                Some(b'n') => Value::Null,
                _ => Value::Number(Number::from_token(token)),
            })
        }
    }
}

/// Compact JSON, as serde_json writes it (keys sorted, as the map holds them).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
            Value::Number(n) => n.fmt(f),
            Value::String(s) => write_string(f, s),
            Value::Array(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    item.fmt(f)?;
                }
                f.write_char(']')
            }
            Value::Object(map) => {
                f.write_char('{')?;
                for (i, (key, value)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_string(f, key)?;
                    f.write_char(':')?;
                    value.fmt(f)?;
                }
                f.write_char('}')
            }
        }
    }
}

/// A JSON string: `"` and `\` escaped, control characters as serde_json
/// escapes them (`\n`, … or `\u00XX`), everything else as it is.
pub fn write_string(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut plain = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.write_str(&text[plain..i])?;
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for digit in [b'\\', b'u', b'0', b'0', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]] {
                out.write_char(char::from(digit))?;
            }
        } else {
            out.write_str(escape)?;
        }
        plain = i + 1;
    }
    out.write_str(&text[plain..])?;
    out.write_char('"')
}

/// `json!`-style values for the unit tests, built by serde_json (a
/// dev-dependency) and read back: `json!({"a": [1, x]})`.
#[cfg(test)]
macro_rules! json {
    ($($json:tt)+) => {
        $crate::json::from_str(&serde_json::json!($($json)+).to_string()).expect("serde_json writes JSON")
    };
}
#[cfg(test)]
pub(crate) use json;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_integers_exact_and_other_numbers_as_written() {
        let read = |text| from_str(text).map(|v| (v.as_i64(), v.as_u64(), v.to_string()));
        assert_eq!(read("-0"), Ok((Some(0), Some(0), "0".into())));
        assert_eq!(read("18446744073709551615"), Ok((None, Some(u64::MAX), "18446744073709551615".into())));
        assert_eq!(read("-9223372036854775808"), Ok((Some(i64::MIN), None, "-9223372036854775808".into())));
        assert_eq!(read("-9223372036854775809"), Ok((None, None, "-9223372036854775809".into())));
        assert_eq!(read("1.50e+3"), Ok((None, None, "1.50e+3".into())));
    }

    #[test]
    fn strings_are_unescaped_and_written_as_serde_json_writes_them() {
        let value = from_str(r#"["a\"\\\/\b\f\n\r\t\u0001\u00e9\ud83d\ude00", "\u007f"]"#).expect("JSON");
        assert_eq!(value.to_string(), "[\"a\\\"\\\\/\\b\\f\\n\\r\\t\\u0001é😀\",\"\u{7f}\"]");
        assert!(from_str(r#""\ud800""#).is_err(), "a lone surrogate");
    }

    #[test]
    fn objects_sort_their_keys_and_the_last_of_a_repeated_key_wins() {
        let value = from_str(r#"{"b":1,"a":{"y":[true,null],"x":false},"b":2}"#).expect("JSON");
        assert_eq!(value.to_string(), r#"{"a":{"x":false,"y":[true,null]},"b":2}"#);
        assert_eq!(value.pointer("/a/y/0"), Some(&Value::Bool(true)));
        assert_eq!(value.pointer("/a/y/01"), None);
        assert_eq!(value.pointer(""), Some(&value));
    }

    #[test]
    fn pointer_tokens_undo_their_escapes_as_serde_json_does() {
        let text = r#"{"a/b":1,"m~n":2,"~1":3,"~":4,"~2":5,"/":{"~0":6}}"#;
        let (ours, theirs) =
            (from_str(text).expect("JSON"), serde_json::from_str::<serde_json::Value>(text).expect("JSON"));
        for pointer in ["/a~1b", "/m~0n", "/~01", "/~", "/~2", "/~1/~00", "/~10", "/a/b", "/~3"] {
            let expected = theirs.pointer(pointer).map(|v| v.to_string());
            assert_eq!(ours.pointer(pointer).map(|v| v.to_string()), expected, "{pointer}");
        }
    }

    #[test]
    fn nesting_is_bounded_where_serde_json_bounds_it() {
        let deep = |n| format!("{}{}", "[".repeat(n), "]".repeat(n));
        for n in [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1] {
            let theirs = serde_json::from_str::<serde_json::Value>(&deep(n)).is_ok();
            assert_eq!(from_str(&deep(n)).is_ok(), theirs, "{n} levels");
        }
        let error = from_str(&deep(MAX_DEPTH + 1)).expect_err("too deep");
        assert_eq!(error.offset, MAX_DEPTH);
    }
}
