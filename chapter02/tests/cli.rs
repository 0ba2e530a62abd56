//! What every chapter 2 binary does before it touches the kernel: --help, bad arguments, and
//! a run without privileges.

use std::path::Path;
use std::process::Command;

use ebpf_support::testing;

const BINARIES: [&str; 7] = [
    env!("CARGO_BIN_EXE_hello"),
    env!("CARGO_BIN_EXE_hello-map"),
    env!("CARGO_BIN_EXE_hello-buffer"),
    env!("CARGO_BIN_EXE_hello-ring-buffer"),
    env!("CARGO_BIN_EXE_hello-tail"),
    env!("CARGO_BIN_EXE_hello-file"),
    env!("CARGO_BIN_EXE_hello-file-ring-buffer"),
];

fn name(binary: &str) -> &str {
    Path::new(binary).file_name().unwrap().to_str().unwrap()
}

#[test]
fn help_says_what_each_example_attaches_to() {
    for binary in BINARIES {
        let output = Command::new(binary).arg("--help").output().unwrap();
        assert!(output.status.success());
        let help = String::from_utf8(output.stdout).unwrap();
        insta::assert_snapshot!(format!("help-{}", name(binary)), help);
    }
}

#[test]
fn a_bad_argument_is_one_line_and_a_failure() {
    for binary in BINARIES {
        let output = Command::new(binary)
            .args(["--count", "lots"])
            .output()
            .unwrap();
        testing::assert_one_line_error(
            &output,
            &format!("{}: invalid value 'lots' for '--count <N>'", name(binary)),
        );
        let output = Command::new(binary)
            .args(["--timeout", "0"])
            .output()
            .unwrap();
        testing::assert_one_line_error(&output, "is not a positive number of seconds");
    }
}

#[test]
fn without_root_each_example_says_so_in_one_line() {
    if !testing::ready_for(&chapter02::HELLO) {
        return;
    }
    for binary in BINARIES {
        let output = testing::run_as_nobody(Path::new(binary), &[]);
        testing::assert_one_line_error(
            &output,
            &format!(
                "{}: needs root: loading eBPF programs requires CAP_BPF and CAP_PERFMON (missing: CAP_BPF, \
                 CAP_PERFMON); run it with sudo",
                name(binary)
            ),
        );
    }
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    if !testing::ready_for(&chapter02::HELLO) {
        return;
    }
    // `hello-buffer --trigger | head -1`: the reader closes the pipe after one line.
    let mut child = Command::new(env!("CARGO_BIN_EXE_hello-buffer"))
        .args(["--trigger", "--timeout", "30"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.ends_with(" Hello World\n"), "{first:?}");
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panic"), "{stderr}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "{:?}: {stderr}",
        output.status
    );
}
