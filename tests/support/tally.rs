//! How far the cases got: for each check, how many cases it refused and how
//! many passed it. A check no case reached proves nothing; the test prints
//! the table and fails when a check was never reached.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Refused and passed counts per check name.
#[derive(Default)]
pub struct Tally(Mutex<BTreeMap<&'static str, (u64, u64)>>);

impl Tally {
    /// One case was refused by `check`.
    pub fn refused(&self, check: &'static str) {
        self.add(check, 1, 0);
    }

    /// One case passed `check`.
    pub fn passed(&self, check: &'static str) {
        self.add(check, 0, 1);
    }

    fn add(&self, check: &'static str, refused: u64, passed: u64) {
        let mut table = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let row = table.entry(check).or_default();
        row.0 += refused;
        row.1 += passed;
    }

    /// The table, one line per check: reached = refused + passed.
    pub fn report(&self, cases: u32) -> String {
        let table = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = format!("{cases} cases; per check: reached (refused + passed)\n");
        for (check, (refused, passed)) in table.iter() {
            out.push_str(&format!("  {check:<28} {:>7} ({refused} + {passed})\n", refused + passed));
        }
        out
    }

    /// Prints the table, then fails with the run's failure (proptest's
    /// smallest failing case) if it had one.
    pub fn print_and_check(&self, cases: u32, outcome: Result<(), impl std::fmt::Display>) {
        println!("{}", self.report(cases));
        if let Err(failure) = outcome {
            panic!("{failure}");
        }
    }

    /// Checks that no case reached, out of `expected`.
    pub fn unreached(&self, expected: &[&'static str]) -> Vec<&'static str> {
        let table = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        expected.iter().copied().filter(|c| table.get(c).is_none_or(|(r, p)| r + p == 0)).collect()
    }

    /// Cases that `check` refused.
    #[allow(dead_code)] // each test crate compiles its own copy; json_scan.rs uses this
    pub fn refused_count(&self, check: &'static str) -> u64 {
        let table = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        table.get(check).map_or(0, |row| row.0)
    }

    /// Cases that passed `check`.
    pub fn passed_count(&self, check: &'static str) -> u64 {
        let table = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        table.get(check).map_or(0, |row| row.1)
    }
}
