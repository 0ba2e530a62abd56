//! Check for exercise 5.3: the reader's answer.sh says how many CO-RE relocations libbpf applied
//! to hello, which field the first one is about, and the offset libbpf wrote; the check reads
//! libbpf's log itself and compares.

use std::process::Command;

use ebpf_support::testing::{self, exercise_failed};

#[path = "answers.rs"]
mod answers;
#[path = "relocations.rs"]
mod relocations;

const ANSWER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/answer.sh");

#[test]
fn the_answer_is_what_libbpf_did() {
    testing::require_kernel();
    // Chapter 5's example, as the reader runs it.
    let program = answers::chapter_binary("chapter05", "hello-buffer-config-core");
    let (_, log) = relocations::verbose_run(&program);
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
        .env("PROGRAM", &program)
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
