//! Check for exercise 5.2: the reader's answer.sh says whether the object file's BTF is the
//! loaded program's, and how many types it has; the check finds out itself and compares.

use std::process::Command;
use std::time::Duration;

use ebpf_support::testing::{self, exercise_failed};

#[path = "common.rs"]
mod common;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch05-2-object-btf");
const ANSWER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/answer.sh");

fn sh(script: &str, env: &[(&str, &str)]) -> String {
    let output = Command::new("sh")
        .args(["-c", script])
        .envs(env.iter().copied())
        .output()
        .expect("running sh");
    assert!(
        output.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_answer_is_what_bpftool_shows() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &[]);
    let export = program
        .wait_for_line(Duration::from_secs(10), |l| {
            l.starts_with("export PROG_ID=")
        })
        .unwrap_or_else(|seen| panic!("the program printed no IDs: {seen:?}"));
    let pairs: Vec<(&str, &str)> = export
        .trim_start_matches("export ")
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .collect();
    let value = |name: &str| pairs.iter().find(|(k, _)| *k == name).unwrap().1;
    let (object, prog_id) = (value("OBJECT"), value("PROG_ID"));

    // What the check measures itself.
    let from_object = sh(&format!("bpftool btf dump file {object}"), &[]);
    let loaded = sh(&format!("bpftool btf dump prog id {prog_id}"), &[]);
    let identical = if from_object == loaded { "yes" } else { "no" };
    let types = loaded.lines().filter(|l| l.starts_with('[')).count();
    let expected = format!("identical: {identical}\ntypes: {types}");

    let script = std::fs::read_to_string(ANSWER).expect("reading answer.sh");
    let answer = sh(&script, &pairs);
    let _ = program.interrupt();
    if answer.trim() != expected {
        exercise_failed(
            &expected.replace('\n', ", "),
            &answer.trim().replace('\n', ", "),
        );
    }
    println!("{}", expected.replace('\n', ", "));
}
