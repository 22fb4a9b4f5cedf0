//! Support for the property tests: valid connections and requests built
//! from connector.json ([`cases`]), each with one dimension varied, a fake
//! Klarna that answers like the real one or with one thing wrong
//! ([`fake_klarna`]), and a tally of what the cases reached ([`tally`]).

pub mod cases;
pub mod fake_klarna;
pub mod tally;

/// Planted in every credential: it must never appear in an error or a log.
pub const SECRET: &str = "fuzz-SECRET-7d1e";

use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestRunner};

/// The runner: `FUZZ_CASES` cases (default 3,000); the same ones on every run
/// (so the reached-every-check assertions cannot flake in CI) unless
/// `FUZZ_SEED` is a number or `random`. Saved regressions in `regressions`
/// replay first.
pub fn runner(regressions: &'static str) -> (TestRunner, u32) {
    let cases = std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000);
    let rng_seed = match std::env::var("FUZZ_SEED").as_deref() {
        Ok("random") => RngSeed::Random,
        Ok(seed) => RngSeed::Fixed(seed.parse().unwrap_or(1)),
        Err(_) => RngSeed::Fixed(1),
    };
    let persistence = FileFailurePersistence::Direct(regressions);
    let config = Config { cases, rng_seed, failure_persistence: Some(Box::new(persistence)), ..Config::default() };
    (TestRunner::new(config), cases)
}
