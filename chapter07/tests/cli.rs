//! What hello-attach does before it touches the kernel: --help and bad arguments.

use std::path::Path;
use std::process::Command;

use ebpf_support::testing;

const BINARY: &str = env!("CARGO_BIN_EXE_hello-attach");

#[test]
fn help_says_what_each_program_attaches_to() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!(
        "help-hello-attach",
        String::from_utf8(output.stdout).unwrap()
    );
}

#[test]
fn a_bad_argument_is_one_line_and_a_failure() {
    let output = Command::new(BINARY).arg("--lots").output().unwrap();
    testing::assert_one_line_error(&output, "hello-attach: unexpected argument '--lots' found");
}

#[test]
fn without_root_it_says_so_in_one_line() {
    if !testing::ready_for(&chapter07::HELLO_ATTACH) {
        return;
    }
    for args in [&[][..], &["--ip-link"][..]] {
        let output = testing::run_as_nobody(Path::new(BINARY), args);
        testing::assert_one_line_error(&output, "hello-attach: needs root");
    }
}
