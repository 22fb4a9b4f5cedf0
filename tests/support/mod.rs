//! Support for the property tests: valid connections and requests built
//! from connector.json ([`cases`]), each with one dimension varied, a fake
//! Klarna that answers like the real one or with one thing wrong
//! ([`fake_klarna`]), and a tally of what the cases reached ([`tally`]).

pub mod cases;
pub mod fake_klarna;
pub mod tally;

/// Planted in every credential: it must never appear in an error or a log.
pub const SECRET: &str = "fuzz-SECRET-7d1e";
