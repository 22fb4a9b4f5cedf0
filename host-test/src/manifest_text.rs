//! What `describe()` must return: connector.json minified, the same JSON
//! value with its keys in the file's order and no whitespace between tokens.

use serde_json::Value;

/// The repository's connector.json, as written (pretty-printed).
pub const CONNECTOR_JSON: &str = include_str!("../../connector.json");

/// Panics unless `described` is connector.json minified.
pub fn assert_is_the_manifest_minified(described: &str) {
    let parse = |text: &str| serde_json::from_str::<Value>(text).expect("JSON");
    assert_eq!(parse(described), parse(CONNECTOR_JSON), "describe() is not connector.json's value");
    let (given, file) = (keys_in_order(described), keys_in_order(CONNECTOR_JSON));
    if let Some(at) = (0..given.len().max(file.len())).find(|&i| given.get(i) != file.get(i)) {
        panic!("key #{at} is {:?}, the file's is {:?}: not in the file's order", given.get(at), file.get(at));
    }
    assert_eq!(whitespace_between_tokens(described), 0, "describe() is not minified");
    assert!(described.len() < CONNECTOR_JSON.len());
}

/// Every object key, depth first, in the order the text has them.
fn keys_in_order(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde::Deserializer::deserialize_any(&mut deserializer, KeyCollector(&mut keys)).expect("JSON");
    keys
}

/// Walks a JSON value, pushing each object key as it is read.
struct KeyCollector<'k>(&'k mut Vec<String>);

impl<'de> serde::de::DeserializeSeed<'de> for KeyCollector<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyCollector<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            self.0.push(key);
            map.next_value_seed(KeyCollector(self.0))?;
        }
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(KeyCollector(self.0))?.is_some() {}
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// How many whitespace characters lie outside strings.
fn whitespace_between_tokens(text: &str) -> usize {
    let (mut in_string, mut escaped, mut count) = (false, false, 0);
    for c in text.chars() {
        match c {
            _ if in_string && escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            c if !in_string && c.is_ascii_whitespace() => count += 1,
            _ => {}
        }
    }
    count
}
