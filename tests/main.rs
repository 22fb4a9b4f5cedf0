//! The component's native property tests, in one binary: Klarna's answers
//! and the host's requests generated from connector.json ([`fuzz`]), every
//! kind of delivery and answer ([`fuzz_push`]), and the record scanner held
//! to serde_json ([`json_scan`]). `FUZZ_CASES` sets the cases of each.

#[allow(dead_code)] // not every property uses every helper
mod support;

mod fuzz;
mod fuzz_push;
mod json_scan;
