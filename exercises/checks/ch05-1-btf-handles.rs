//! Check for exercise 5.1: the reader's commands.sh dumps the BTF of the running program's map
//! and program by every handle bpftool takes, and each handle finds the same BTF.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use ebpf_support::testing::{self, exercise_failed};

#[path = "common.rs"]
mod common;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch05-1-btf-handles");
const COMMANDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/commands.sh");

/// What the program printed: `export MAP_ID=… PROG_ID=… PROG_TAG=…`, as (name, value) pairs.
fn handles(line: &str) -> Vec<(String, String)> {
    line.trim_start_matches("export ")
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn run(line: &str, env: &[(String, String)]) -> (bool, String) {
    let output = Command::new("sh")
        .args(["-c", line])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("running sh");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn every_handle_finds_the_same_btf() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &[]);
    let export = program
        .wait_for_line(Duration::from_secs(10), |l| l.starts_with("export MAP_ID="))
        .unwrap_or_else(|seen| panic!("the program printed no handles: {seen:?}"));
    let env = handles(&export);
    let value = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    // The truth, from the check's own bpftool calls by ID.
    let map_btf = run(
        &format!("bpftool btf dump map id {}", value("MAP_ID")),
        &env,
    )
    .1;
    let prog_btf = run(
        &format!("bpftool btf dump prog id {}", value("PROG_ID")),
        &env,
    )
    .1;

    let script = std::fs::read_to_string(COMMANDS).expect("reading commands.sh");
    let mut used = BTreeSet::new();
    for line in script.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (object, handle) = match words[..] {
            [
                "bpftool",
                "btf",
                "dump",
                object @ ("map" | "prog"),
                handle,
                _,
                ..,
            ] => (object, handle),
            _ => exercise_failed(
                "one `bpftool btf dump map|prog HANDLE VALUE` command per line",
                line,
            ),
        };
        let (ok, output) = run(line, &env);
        let expected = if object == "map" { &map_btf } else { &prog_btf };
        if !ok || &output != expected {
            let _ = program.interrupt();
            exercise_failed(
                &format!(
                    "`{line}` prints the BTF of the running program's {}",
                    if object == "map" {
                        "map my_config"
                    } else {
                        "program hello"
                    }
                ),
                &if ok {
                    format!("{} lines that differ from it", output.lines().count())
                } else {
                    "a command that failed".into()
                },
            );
        }
        used.insert(format!("{object} {handle}"));
    }
    let _ = program.interrupt();

    let wanted: BTreeSet<String> = [
        "map id",
        "map name",
        "map pinned",
        "prog id",
        "prog name",
        "prog tag",
        "prog pinned",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let missing: Vec<&String> = wanted.difference(&used).collect();
    if !missing.is_empty() {
        exercise_failed(
            &format!("commands with every handle: {wanted:?}"),
            &format!("{used:?}, without {missing:?}"),
        );
    }
    println!(
        "the map's BTF ({} lines) and the program's ({} lines), by {} handles",
        map_btf.lines().count(),
        prog_btf.lines().count(),
        used.len()
    );
}
