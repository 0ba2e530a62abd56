//! Check for exercise 5.1: the reader's commands.sh dumps the BTF of the map and the program of
//! a running hello-buffer-config-core by every handle bpftool takes, and each handle finds the
//! same BTF.

use std::collections::BTreeSet;
use std::process::Command;

use ebpf_support::testing::{self, exercise_failed, map_named};
use libbpf_rs::query::ProgInfoIter;

#[path = "answers.rs"]
mod answers;
#[path = "common.rs"]
mod common;

const COMMANDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/commands.sh");

/// Pins the check makes for the commands to use, removed however the check ends.
struct Pins(String);

impl Drop for Pins {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(line: &str, env: &[(&str, String)]) -> (bool, String) {
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
    testing::require_tool("bpftool");
    // Chapter 5's example, as the reader runs it.
    let binary = answers::chapter_binary("chapter05", "hello-buffer-config-core");
    let program = common::start(&binary, &[]);
    let objects = program.objects();
    let map_id = map_named(&objects.maps, "my_config").expect("the my_config map");
    let prog_id = *objects.progs.first().expect("the hello program");
    let tag = ProgInfoIter::default()
        .find(|prog| prog.id == prog_id)
        .map(|prog| prog.tag.0.iter().map(|b| format!("{b:02x}")).collect())
        .expect("the program's tag");
    let pins = Pins(format!(
        "/sys/fs/bpf/ch05-1-btf-handles-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&pins.0).expect("making the pins' folder");
    let (map_pin, prog_pin) = (format!("{}/my_config", pins.0), format!("{}/hello", pins.0));
    for (kind, id, path) in [("map", map_id, &map_pin), ("prog", prog_id, &prog_pin)] {
        let pinned = Command::new("bpftool")
            .args([kind, "pin", "id", &id.to_string(), path])
            .status()
            .expect("running bpftool");
        assert!(pinned.success(), "bpftool {kind} pin id {id} {path}");
    }
    let env = [
        ("MAP_ID", map_id.to_string()),
        ("PROG_ID", prog_id.to_string()),
        ("PROG_TAG", tag),
        ("MAP_PIN", map_pin),
        ("PROG_PIN", prog_pin),
    ];

    // The truth, from the check's own bpftool calls by ID.
    let map_btf = run(&format!("bpftool btf dump map id {map_id}"), &env).1;
    let prog_btf = run(&format!("bpftool btf dump prog id {prog_id}"), &env).1;

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
            // The pins hold the program: they go first, or it would outlive the example.
            drop(pins);
            let _ = program.interrupt();
            exercise_failed(
                &format!(
                    "`{line}` prints the BTF of the running {}",
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
    drop(pins);
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
