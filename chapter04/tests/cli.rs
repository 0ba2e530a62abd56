//! What every chapter 4 binary does before it touches the kernel: --help and bad arguments.

use std::path::Path;
use std::process::Command;

use ebpf_support::testing;

const BINARIES: [&str; 4] = [
    env!("CARGO_BIN_EXE_pin-demo"),
    env!("CARGO_BIN_EXE_bpf-watch"),
    env!("CARGO_BIN_EXE_hello-buffer-config"),
    env!("CARGO_BIN_EXE_hello-ring-buffer-config"),
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
    }
}

#[test]
fn a_message_too_long_for_user_msg_t_is_refused() {
    for binary in &BINARIES[2..] {
        let output = Command::new(binary)
            .args(["--message", "0=Hello root, welcome"])
            .output()
            .unwrap();
        testing::assert_one_line_error(&output, "the message must be 1 to 12 bytes");
    }
}
