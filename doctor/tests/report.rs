//! The doctor on the real kernel: what it reports must agree with what the examples meet.

use std::process::Command;

use ebpf_support::has;
use ebpf_support::needs::{Capability, Privilege};
use ebpf_support::testing;

const DOCTOR: &str = env!("CARGO_BIN_EXE_doctor");

fn line<'a>(report: &'a str, start: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no `{start}` line in:\n{report}"))
}

#[test]
fn reports_kprobes_and_the_examples_they_decide() {
    if !testing::ready(Privilege::Tracing, &[Capability::Btf, Capability::Tracefs]) {
        return;
    }
    let output = Command::new(DOCTOR).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let report = String::from_utf8(output.stdout).unwrap();
    let kprobe = line(&report, "kprobe ");
    let hello = line(&report, "  chapter02  hello ");
    if has(Capability::Ksyscall) {
        assert!(
            kprobe.contains(" yes ")
                && kprobe.contains("loaded and attached a program on vfs_read"),
            "{kprobe}"
        );
        assert!(hello.ends_with("runs (ksyscall kprobe)"), "{hello}");
    } else {
        assert!(
            kprobe.contains(" no ")
                && kprobe.contains("looked for the kprobe PMU: this kernel has no kprobes"),
            "{kprobe}"
        );
        assert!(
            hello.contains("falls back to the tracepoint syscalls/sys_enter_execve"),
            "{hello}"
        );
        assert!(
            report.contains("cargo xtask vm shell --lane debian-6.12"),
            "{report}"
        );
    }
    // Probes that every supported kernel passes.
    for capability in [
        "BTF ",
        "tracepoint ",
        "raw tracepoint ",
        "ring buffer ",
        "XDP on veth ",
        "TC on veth ",
        "socket filter ",
    ] {
        assert!(
            line(&report, capability).contains(" yes "),
            "{}",
            line(&report, capability)
        );
    }
    assert!(
        line(&report, "  chapter02  hello-tail ").ends_with("runs (raw tracepoint)"),
        "{report}"
    );
}

#[test]
fn records_findings_that_the_table_reads_back() {
    if !testing::ready(Privilege::Tracing, &[Capability::Btf, Capability::Tracefs]) {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("doctor-table");
    std::fs::create_dir_all(&dir).unwrap();
    let findings = dir.join("here.txt");
    assert!(
        Command::new(DOCTOR)
            .arg("--results")
            .arg(&findings)
            .output()
            .unwrap()
            .status
            .success()
    );
    let mut text = std::fs::read_to_string(&findings).unwrap();
    text.push_str("tested\tchapter02\thello\tpassed\n");
    std::fs::write(&findings, text).unwrap();
    let table = dir.join("table.md");
    let status = Command::new(DOCTOR)
        .args(["table", "--column"])
        .arg(format!("here={}", findings.display()))
        .arg("--output")
        .arg(&table)
        .status()
        .unwrap();
    assert!(status.success());
    let table = std::fs::read_to_string(&table).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let hello = table
        .lines()
        .find(|l| l.starts_with("| chapter02 hello |"))
        .expect(&table);
    let expected = if has(Capability::Ksyscall) {
        "proven (ksyscall kprobe)"
    } else {
        "proven with the fallback: tracepoint syscalls/sys_enter_execve"
    };
    assert!(hello.contains(expected), "{hello}");
    let untested = table
        .lines()
        .find(|l| l.starts_with("| chapter02 hello-map |"))
        .expect(&table);
    assert!(untested.contains("not tested there"), "{untested}");
}

/// A chapter the doctor has never heard of: a package folder with one binary, which describes
/// itself when asked. The doctor's table lists it with no edit to the doctor or xtask.
#[test]
fn the_table_finds_an_example_of_any_chapter() {
    let repo = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("any-chapter");
    let _ = std::fs::remove_dir_all(&repo);
    let bin_dir = repo.join("target/debug");
    for dir in ["xtask", "exercises", "chapter99/src/bin", "target/debug"] {
        std::fs::create_dir_all(repo.join(dir)).unwrap();
    }
    std::fs::write(repo.join("Cargo.toml"), "[workspace]\n").unwrap();
    std::fs::write(repo.join("chapter99/Cargo.toml"), "[package]\n").unwrap();
    std::fs::write(repo.join("chapter99/src/bin/hello-later.rs"), "").unwrap();
    // What `ebpf_support::main` prints for `--describe`, from a stand-in binary.
    let description = "example\tchapter99\thello-later\ttracing\n\
                       needs\tBtf\n\
                       hook\traw_tp\tsys_enter\n";
    let binary = bin_dir.join("hello-later");
    std::fs::write(
        &binary,
        format!(
            "#!/bin/sh\nprintf '{}'\n",
            description.replace('\t', "\\t").replace('\n', "\\n")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    let findings = repo.join("here.txt");
    std::fs::write(
        &findings,
        "kernel\t6.18.0 x86_64\ncapability\tBtf\tyes\tpresent\n\
         capability\tRawTracepoint\tyes\tworks\ntested\tchapter99\thello-later\tpassed\n",
    )
    .unwrap();
    let table = repo.join("table.md");
    let output = Command::new(DOCTOR)
        .env("LEARNING_EBPF_BIN_DIR", &bin_dir)
        .args(["table", "--column"])
        .arg(format!("here={}", findings.display()))
        .arg("--output")
        .arg(&table)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let table = std::fs::read_to_string(&table).unwrap();
    std::fs::remove_dir_all(&repo).unwrap();
    assert!(
        table.contains("| chapter99 hello-later | proven (raw tracepoint) |"),
        "{table}"
    );
}
