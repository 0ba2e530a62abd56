//! Check for exercise 6.1: the reader's kprobe_exec reads one byte past data.message, and the
//! verifier rejects it with what it says about the chapter's own variant of that mistake.

use ebpf_support::testing::{self, exercise_failed};

#[path = "verifier.rs"]
mod verifier;

const BINARY: &str = env!("CARGO_BIN_EXE_ch06-1-stack-off-by-one");

#[test]
fn the_verifier_refuses_a_read_past_the_stack_array() {
    testing::require_kernel();
    let (program, expected) = verifier::chapter_verdict("stack-off-by-one");
    let outcome = verifier::run(BINARY, &[]);
    let wanted = format!("the verifier rejects {program}: {expected}");
    match outcome.rejected() {
        None => exercise_failed(
            &wanted,
            "the verifier accepted your program: c cannot reach 12 yet",
        ),
        Some((rejected, key)) if rejected == program && key == expected => {
            println!("{wanted}");
        }
        Some((rejected, key)) => {
            exercise_failed(&wanted, &format!("the verifier rejects {rejected}: {key}"))
        }
    }
}
