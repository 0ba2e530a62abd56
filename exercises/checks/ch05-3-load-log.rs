//! Check for exercise 5.3: the reader's answer.sh says how many CO-RE relocations libbpf applied
//! to hello, which field the first one is about, and the offset libbpf wrote; the check reads
//! libbpf's log itself and compares.

use std::process::Command;

use ebpf_support::testing::{self, exercise_failed};

#[path = "relocations.rs"]
mod relocations;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch05-3-load-log");
const ANSWER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/answer.sh");

#[test]
fn the_answer_is_what_libbpf_did() {
    testing::require_kernel();
    let (_, log) = relocations::verbose_run(PROGRAM);
    let found = relocations::relocations(&log, "hello");
    let first = found
        .first()
        .unwrap_or_else(|| panic!("no CO-RE relocation in libbpf's log: {log}"));
    let expected = format!(
        "relocations: {}\nfield: {}\noffset: {}",
        found.len(),
        first.field,
        first.to
    );

    let script = std::fs::read_to_string(ANSWER).expect("reading answer.sh");
    let output = Command::new("sh")
        .args(["-c", &script])
        .env("PROGRAM", PROGRAM)
        .output()
        .expect("running answer.sh");
    let answer = String::from_utf8_lossy(&output.stdout);
    if answer.trim() != expected {
        exercise_failed(
            &expected.replace('\n', ", "),
            &answer.trim().replace('\n', ", "),
        );
    }
    println!("{}", expected.replace('\n', ", "));
}
