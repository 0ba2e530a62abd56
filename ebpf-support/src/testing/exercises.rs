//! The exercise checks' way to fail: a marker that tells "not solved" apart from "could not run".

pub use crate::EXERCISE_CHECK_FAILED;

/// Fails an exercise check, saying what was expected and what the reader's program did.
#[track_caller]
pub fn exercise_failed(expected: &str, got: &str) -> ! {
    panic!("{EXERCISE_CHECK_FAILED}\n  expected:     {expected}\n  your program: {got}\n");
}
