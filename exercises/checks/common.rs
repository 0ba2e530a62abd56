//! Pieces shared by the exercise checks (each check includes this file).
#![allow(dead_code)] // each check uses only some of these helpers

use std::time::Duration;

use chapter02::counts::parse_counts;
use ebpf_support::testing::{Session, exercise_failed};

pub const NOBODY: u32 = 65534;

/// Starts the exercise's program with `args` and waits until it has attached.
pub fn start(binary: &str, args: &[&str]) -> Session {
    let mut session = Session::spawn(binary, args);
    if let Err(seen) = session.wait_for_line(Duration::from_secs(30), |l| l.contains(": attached"))
    {
        exercise_failed(
            "the program to load and attach",
            &format!("printed {seen:#?}"),
        );
    }
    session
}

/// Waits up to 10 s for a counter_table printout that satisfies `wanted`; otherwise fails the
/// check with `expected` and the last printout.
pub fn wait_for_counts(
    session: &mut Session,
    expected: &str,
    wanted: impl Fn(&[(u64, u64)]) -> bool,
) -> Vec<(u64, u64)> {
    let mut last = String::from("(no printout)");
    let found = session.wait_for_line(Duration::from_secs(10), |line| {
        if !line.starts_with("ID ") && !line.starts_with('(') {
            return false;
        }
        last = line.to_string();
        wanted(&parse_counts(line))
    });
    match found {
        Ok(line) => parse_counts(&line),
        Err(_) => exercise_failed(expected, &format!("last printout after 10 s: {last}")),
    }
}

/// The count for `key`, or 0.
pub fn count_of(counts: &[(u64, u64)], key: u64) -> u64 {
    counts
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(0, |(_, n)| *n)
}
