//! Check for exercise 4.8: the reader's answer.sh says how many BPF_LINK_CREATE calls of chapter
//! 5's hello-buffer-config-core returned a link, with which attach type, and how many failed (the
//! probes libbpf makes); the check traces the program with strace itself and compares.

use std::process::Command;

use ebpf_support::testing::{self, exercise_failed};

#[path = "answers.rs"]
mod answers;

const ANSWER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/answer.sh");

/// The three lines answer.sh should print, from strace's view of one run of `program`.
fn expected(program: &str) -> String {
    let trace = std::env::temp_dir().join(format!("ch04-8-{}.strace", std::process::id()));
    let output = Command::new("strace")
        .args(["-f", "-e", "trace=bpf", "-o"])
        .arg(&trace)
        .args([program, "--trigger", "--count", "1", "--timeout", "20"])
        .output()
        .expect("run strace (`cargo xtask setup` installs it)");
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    let _ = std::fs::remove_file(&trace);
    // A program that did not run is "could not run", not "not solved" (see checks/common.rs).
    assert!(
        output.status.success(),
        "the program did not run under strace, so nothing could be checked: {output:?}"
    );
    let calls: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("bpf(BPF_LINK_CREATE"))
        .collect();
    let failed = |l: &&&str| {
        l.rsplit_once(" = ")
            .is_some_and(|(_, r)| r.starts_with("-1 "))
    };
    let links: Vec<&&str> = calls.iter().filter(|l| !failed(l)).collect();
    let mut types: Vec<&str> = links
        .iter()
        .filter_map(|l| {
            let rest = l.split_once("attach_type=")?.1;
            rest.split([',', '}']).next()
        })
        .collect();
    types.sort();
    types.dedup();
    assert!(!links.is_empty(), "strace saw no link created: {text}");
    format!(
        "links: {}\nattach_type: {}\nprobes: {}",
        links.len(),
        types.join(","),
        calls.iter().filter(failed).count()
    )
}

#[test]
fn the_answer_is_what_strace_sees() {
    testing::require_kernel();
    testing::require_tool("strace");
    // Chapter 5's example, as the reader runs it.
    let program = answers::chapter_binary("chapter05", "hello-buffer-config-core");
    let expected = expected(&program);

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
