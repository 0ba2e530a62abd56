//! What every chapter 5 binary does before it touches the kernel: --help and bad arguments.

use std::path::Path;
use std::process::Command;

use ebpf_support::testing;

const BINARIES: [&str; 3] = [
    env!("CARGO_BIN_EXE_hello-buffer-config-core"),
    env!("CARGO_BIN_EXE_find-map"),
    env!("CARGO_BIN_EXE_btf-dump"),
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
        let output = Command::new(binary).arg("--lots").output().unwrap();
        testing::assert_one_line_error(
            &output,
            &format!("{}: unexpected argument '--lots' found", name(binary)),
        );
    }
}

#[test]
fn without_root_each_example_says_so_in_one_line() {
    if !testing::ready_for(&chapter05::HELLO_BUFFER_CONFIG_CORE) {
        return;
    }
    for binary in BINARIES {
        let output = testing::run_as_nobody(Path::new(binary), &[]);
        testing::assert_one_line_error(&output, &format!("{}: needs root", name(binary)));
    }
}
