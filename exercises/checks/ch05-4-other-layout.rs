//! Check for exercise 5.4: compiled against another layout of a kernel struct, the program
//! still reads the right value, because libbpf moved the field's offset as it loaded it.

use ebpf_support::testing::{self, exercise_failed};

#[path = "relocations.rs"]
mod relocations;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch05-4-other-layout");

#[test]
fn libbpf_moves_a_field_and_the_path_is_still_right() {
    testing::require_kernel();
    let (events, log) = relocations::verbose_run(PROGRAM);
    let found = relocations::relocations(&log, "hello");
    let list = |relocations: &[relocations::Relocation]| {
        relocations
            .iter()
            .map(|r| format!("{} at insn #{}: {} -> {}", r.field, r.insn, r.from, r.to))
            .collect::<Vec<_>>()
            .join("; ")
    };
    // The one event is an exec of /bin/true (--trigger): its path was read through the
    // relocated field.
    if !events.lines().any(|l| l.ends_with(" /bin/true")) {
        exercise_failed(
            "the event of an exec of /bin/true, with its path read right",
            &format!("{events:?}, after the relocations {}", list(&found)),
        );
    }
    let Some(moved) = found.iter().find(|r| r.from != r.to) else {
        exercise_failed(
            "a CO-RE relocation that moves a field: `imm A -> B` (or `off A -> B`) with A ≠ B",
            &format!("only {}", list(&found)),
        );
    };
    println!(
        "libbpf moved {} from offset {} to {} and the path is right",
        moved.field, moved.from, moved.to
    );
}
