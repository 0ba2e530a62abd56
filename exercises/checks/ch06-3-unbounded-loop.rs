//! Check for exercise 6.3: the reader's xdp_hello loops c times, and the verifier gives up at
//! its complexity limit, as it does with the chapter's own variant of that loop.

use ebpf_support::testing::{self, exercise_failed};

#[path = "verifier.rs"]
mod verifier;

const BINARY: &str = env!("CARGO_BIN_EXE_ch06-3-unbounded-loop");

#[test]
fn the_verifier_gives_up_on_a_loop_bounded_by_a_global() {
    testing::require_kernel();
    let (program, expected) = verifier::chapter_verdict("unbounded-loop");
    let outcome = verifier::run(BINARY, &[]);
    let wanted = format!("the verifier rejects {program}: {expected}");
    match outcome.rejected() {
        None => exercise_failed(
            &wanted,
            "the verifier accepted your program: xdp_hello has no loop bounded by c yet",
        ),
        Some((rejected, key)) if rejected == program && key == expected => {
            println!("{wanted}");
        }
        Some((rejected, key)) => {
            exercise_failed(&wanted, &format!("the verifier rejects {rejected}: {key}"))
        }
    }
}
