//! Check for exercise 6.4: the reader's tracepoint program reads one of the common fields at
//! the start of its context, which the verifier refuses.

use ebpf_support::testing::{self, exercise_failed};

#[path = "verifier.rs"]
mod verifier;

const BINARY: &str = env!("CARGO_BIN_EXE_ch06-4-context-access");

#[test]
fn the_verifier_refuses_the_common_fields() {
    testing::require_kernel();
    let outcome = verifier::run(BINARY, &[]);
    let wanted = "the verifier rejects tp_exec: invalid bpf_context access at an offset below 8 \
                  (common_type, common_flags, common_preempt_count or common_pid)";
    let Some((program, key)) = outcome.rejected() else {
        exercise_failed(
            wanted,
            "the verifier accepted your program: it reads no common field yet",
        );
    };
    let offset = key
        .split("off=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|off| off.parse::<u32>().ok());
    match offset {
        Some(off)
            if program == "tp_exec" && key.starts_with("invalid bpf_context access") && off < 8 =>
        {
            println!("the verifier rejects tp_exec: {key}");
        }
        _ => exercise_failed(wanted, &format!("the verifier rejects {program}: {key}")),
    }
}
