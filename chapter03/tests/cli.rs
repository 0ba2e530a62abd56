//! What every chapter 3 binary does before it touches the kernel: --help, bad arguments, and
//! a run without privileges.

use std::path::Path;
use std::process::Command;

use ebpf_support::testing;

const HELLO_XDP: &str = env!("CARGO_BIN_EXE_hello-xdp");
const HELLO_FUNC: &str = env!("CARGO_BIN_EXE_hello-func");
const INSPECT: &str = env!("CARGO_BIN_EXE_inspect");

fn name(binary: &str) -> &str {
    Path::new(binary).file_name().unwrap().to_str().unwrap()
}

#[test]
fn help_says_what_each_example_does_and_which_book_section_it_follows() {
    for binary in [HELLO_XDP, HELLO_FUNC, INSPECT] {
        let output = Command::new(binary).arg("--help").output().unwrap();
        assert!(output.status.success());
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(help.contains("Learning eBPF, chapter 3"), "{help}");
        insta::assert_snapshot!(format!("help-{}", name(binary)), help);
    }
}

#[test]
fn a_bad_argument_is_one_line_and_a_failure() {
    for binary in [HELLO_XDP, HELLO_FUNC] {
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
    let output = Command::new(INSPECT).output().unwrap();
    testing::assert_one_line_error(
        &output,
        "inspect: the following required arguments were not provided:",
    );
}

#[test]
fn without_root_each_example_says_so_in_one_line() {
    if !testing::ready_for(&chapter03::HELLO_FUNC) {
        return;
    }
    for (binary, args, missing) in [
        (
            HELLO_XDP,
            &[][..],
            "CAP_BPF and CAP_NET_ADMIN (missing: CAP_BPF, CAP_NET_ADMIN)",
        ),
        (
            HELLO_FUNC,
            &[][..],
            "CAP_BPF and CAP_PERFMON (missing: CAP_BPF, CAP_PERFMON)",
        ),
        (
            INSPECT,
            &["--id", "1"][..],
            "CAP_BPF and CAP_PERFMON (missing: CAP_BPF, CAP_PERFMON)",
        ),
    ] {
        let output = testing::run_as_nobody(Path::new(binary), args);
        testing::assert_one_line_error(
            &output,
            &format!(
                "{}: needs root: loading eBPF programs requires {missing}; run it with sudo",
                name(binary)
            ),
        );
    }
}
