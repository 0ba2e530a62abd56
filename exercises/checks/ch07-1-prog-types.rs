//! Check for exercise 7.1: the reader's answer.sh names each program of chapter 7's hello.bpf.c
//! that hello-attach loads here, with its type, as its BPF_PROG_LOAD call shows them; the check
//! traces hello-attach with strace itself and compares.

use std::process::Command;

use ebpf_support::testing::{self, exercise_failed};

#[path = "answers.rs"]
mod answers;

const ANSWER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/answer.sh");

/// The lines answer.sh should print, from strace's view of one run of `program`.
fn expected(program: &str) -> Vec<String> {
    let trace = std::env::temp_dir().join(format!("ch07-1-{}.strace", std::process::id()));
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
        "hello-attach did not run under strace, so nothing could be checked: {output:?}"
    );
    // The kernel keeps 15 characters of a name.
    let ours: Vec<String> = chapter07::ATTACH_POINTS
        .iter()
        .map(|p| p.program.chars().take(15).collect())
        .collect();
    let field = |line: &str, key: &str| -> Option<String> {
        let rest = line.split_once(key)?.1;
        Some(rest.split(['"', ',', '}']).next()?.to_string())
    };
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.contains("bpf(BPF_PROG_LOAD") && !l.contains("= -1 "))
        .filter_map(|l| Some((field(l, "prog_name=\"")?, field(l, "prog_type=")?)))
        .filter(|(name, _)| ours.contains(name))
        .map(|(name, ty)| format!("{name} {ty}"))
        .collect();
    lines.sort();
    lines.dedup();
    assert!(
        !lines.is_empty(),
        "strace saw no program of hello.bpf.c loaded: {text}"
    );
    lines
}

#[test]
fn the_answer_is_what_strace_sees() {
    testing::require_kernel();
    testing::require_tool("strace");
    let program = answers::chapter_binary("chapter07", "hello-attach");
    let expected = expected(&program);

    let script = std::fs::read_to_string(ANSWER).expect("reading answer.sh");
    let output = Command::new("sh")
        .args(["-c", &script])
        .env("PROGRAM", &program)
        .output()
        .expect("running answer.sh");
    let answer: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    if answer != expected {
        let show = |lines: &[String]| match lines {
            [] => "nothing".to_string(),
            lines => lines.join(", "),
        };
        exercise_failed(&show(&expected), &show(&answer));
    }
    println!("{}", expected.join("\n"));
}
