//! Check for exercise 4.1: the instruction counts the reader wrote in answer.txt are the
//! `insn_cnt` of the program's BPF_PROG_LOAD (seen by strace) and the length of the program as
//! the kernel holds it (its xlated instructions, from the kernel's program info).

#[path = "answers.rs"]
mod answers;
use std::sync::LazyLock;

use std::process::Command;
use std::time::Duration;

use ebpf_support::testing::{self, Session, exercise_failed};
use libbpf_rs::query::{ProgInfoIter, ProgInfoQueryOptions};

/// The program the reader looks at: chapter 4's hello-buffer-config, unchanged.
static PROGRAM: LazyLock<String> =
    LazyLock::new(|| answers::chapter_binary("chapter04", "hello-buffer-config"));
const ANSWER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/answer.txt");

/// `insn_cnt=42` in strace's line for the BPF_PROG_LOAD of `hello`.
fn insn_cnt_under_strace() -> u64 {
    let trace = std::env::temp_dir().join(format!("ch04-1-{}.strace", std::process::id()));
    let status = Command::new("strace")
        .args(["-f", "-e", "trace=bpf", "-o"])
        .arg(&trace)
        .arg(&*PROGRAM)
        .args(["--trigger", "--count", "1", "--timeout", "20"])
        .output()
        .expect("run strace (`cargo xtask setup` installs it)");
    assert!(status.status.success(), "{status:?}");
    let text = std::fs::read_to_string(&trace).unwrap();
    let _ = std::fs::remove_file(&trace);
    let line = text
        .lines()
        .find(|l| l.contains("BPF_PROG_LOAD") && l.contains("prog_name=\"hello\""))
        .unwrap_or_else(|| panic!("strace saw no BPF_PROG_LOAD of hello: {text}"));
    let count = line.split("insn_cnt=").nth(1).unwrap();
    count[..count.find(',').unwrap()].parse().unwrap()
}

/// The value after `NAME:` in answer.txt, if it is a number.
fn answer(text: &str, name: &str) -> Result<u64, String> {
    let value = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
        .ok_or(format!("no line `{name}: N`"))?
        .trim();
    value
        .parse()
        .map_err(|_| format!("`{name}: {value}`, which is not a number"))
}

#[test]
fn the_answers_are_the_kernels_counts() {
    testing::require_kernel();
    testing::require_tool("strace");
    let mut program = Session::spawn(&PROGRAM, &[]);
    // A program that does not load is "could not run", not "not solved" (see checks/common.rs).
    if let Err(seen) = program.wait_for_line(Duration::from_secs(30), |l| l.contains(": attached"))
    {
        panic!(
            "the program did not load and attach, so nothing could be checked; it printed {seen:#?}"
        );
    }
    let progs = program.objects().progs;
    let xlated = ProgInfoIter::with_query_opts(
        ProgInfoQueryOptions::default().include_xlated_prog_insns(true),
    )
    .find(|info| progs.contains(&info.id) && info.name.to_string_lossy() == "hello")
    .map(|info| info.xlated_prog_insns.len() as u64 / 8)
    .expect("the program hello is loaded");
    let _ = program.interrupt();
    let insn_cnt = insn_cnt_under_strace();

    let text = answers::answers_text(ANSWER, &PROGRAM);
    for (name, kernel, source) in [
        (
            "insn_cnt",
            insn_cnt,
            "the insn_cnt of the BPF_PROG_LOAD call for hello (strace -e bpf)",
        ),
        (
            "xlated",
            xlated,
            "the number of instructions in `bpftool prog dump xlated name hello`",
        ),
    ] {
        match answer(&text, name) {
            Ok(n) if n == kernel => {}
            Ok(n) => exercise_failed(
                &format!("`{name}:` {source}"),
                &format!("{n} in answer.txt, which is not it; count again"),
            ),
            Err(what) => exercise_failed(
                &format!("`{name}: N` in answer.txt, N being {source}"),
                &format!("{what} in {ANSWER}"),
            ),
        }
    }
    println!(
        "insn_cnt {insn_cnt}, xlated {xlated}: {}",
        if insn_cnt == xlated {
            "the same, as the book says"
        } else {
            "the kernel rewrote some instructions"
        }
    );
}
