//! What hello-verifier shows a reader: --help, --list, a bad argument, a variant the verifier
//! rejects, and the statistics of the two loops.

use std::path::Path;
use std::process::Command;

use ebpf_support::testing;

const BINARY: &str = env!("CARGO_BIN_EXE_hello-verifier");

#[test]
fn help_and_list() {
    let help = Command::new(BINARY).arg("--help").output().unwrap();
    assert!(help.status.success());
    insta::assert_snapshot!("help", String::from_utf8(help.stdout).unwrap());
    let list = Command::new(BINARY).arg("--list").output().unwrap();
    assert!(list.status.success());
    let list = String::from_utf8(list.stdout).unwrap();
    for variant in chapter06::variants::VARIANTS {
        assert!(
            list.contains(&format!("  {:<22} {:<12}", variant.name, variant.program)),
            "{list}"
        );
        assert!(
            list.contains(&format!("(book: “{}”)", variant.book)),
            "{list}"
        );
    }
    insta::assert_snapshot!("list", list);
}

#[test]
fn a_bad_argument_is_one_line_and_a_failure() {
    let output = Command::new(BINARY)
        .args(["--break", "nonsense"])
        .output()
        .unwrap();
    testing::assert_one_line_error(
        &output,
        "hello-verifier: invalid value 'nonsense' for '--break <NAME>': no variant \"nonsense\"",
    );
}

#[test]
fn without_root_it_says_so_in_one_line() {
    if !testing::ready_for(&chapter06::HELLO_VERIFIER) {
        return;
    }
    let output = testing::run_as_nobody(Path::new(BINARY), &["--break", "missing-null-check"]);
    testing::assert_one_line_error(&output, "hello-verifier: needs root");
}

mod hello_verifier {
    use super::*;

    /// `--break missing-null-check`: the log of the path that failed, then one line naming the
    /// mistake, and exit code 1.
    #[test]
    fn a_rejected_variant_prints_the_log_and_names_the_mistake() {
        if !testing::ready_for(&chapter06::HELLO_VERIFIER) {
            return;
        }
        let output = Command::new(BINARY)
            .args(["--break", "missing-null-check"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.starts_with("verifier log of kprobe_exec (level 1):\n"),
            "{stdout}"
        );
        assert!(stdout.contains("call bpf_map_lookup_elem#1"), "{stdout}");
        assert!(
            stdout.contains("invalid mem access 'map_value_or_null'\n"),
            "{stdout}"
        );
        assert!(stdout.contains("\nprocessed "), "{stdout}");
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        let line = regex::Regex::new(
            r"^hello-verifier: the verifier rejected kprobe_exec: R[6-9] invalid mem access 'map_value_or_null' \(variant missing-null-check: p->message\[0\] read without `if \(p != 0\)`; book: “Checking Pointers Before Dereferencing Them”\)\n$",
        )
        .unwrap();
        assert!(line.is_match(&stderr), "{stderr}");
    }

    /// Level 2 shows every instruction of every path: far more than level 1's failing path.
    #[test]
    fn verbose_asks_for_log_level_2() {
        if !testing::ready_for(&chapter06::HELLO_VERIFIER) {
            return;
        }
        let run = |extra: &[&str]| {
            let mut args = vec!["--break", "missing-null-check"];
            args.extend(extra);
            let output = Command::new(BINARY).args(&args).output().unwrap();
            String::from_utf8_lossy(&output.stdout).into_owned()
        };
        let (level1, level2) = (run(&[]), run(&["--verbose"]));
        assert!(
            level2.starts_with("verifier log of kprobe_exec (level 2):\n"),
            "{level2}"
        );
        assert!(level2.lines().count() > level1.lines().count(), "{level2}");
    }

    fn processed(variant: &str) -> u64 {
        let output = Command::new(BINARY)
            .args(["--break", variant])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{variant}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let logs = chapter06::verifier_log::logs(&stdout);
        let (_, log) = logs
            .iter()
            .find(|(p, _)| p == "xdp_hello")
            .expect("xdp_hello's log");
        let summary = chapter06::verifier_log::summary(log).expect("a summary");
        summary.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// The verifier walks the bounded loop ten times, and bpf_loop's callback once.
    #[test]
    fn bpf_loop_costs_the_verifier_less_than_a_bounded_loop() {
        if !testing::ready_for(&chapter06::HELLO_VERIFIER) {
            return;
        }
        let bounded = processed("bounded-loop");
        if !ebpf_support::has(ebpf_support::needs::Capability::BpfLoop) {
            // Before 5.17 the kernel has no bpf_loop, and its verifier refuses the variant.
            let output = Command::new(BINARY)
                .args(["--break", "bpf-loop"])
                .output()
                .unwrap();
            assert!(!output.status.success(), "{output:?}");
            return;
        }
        let with_bpf_loop = processed("bpf-loop");
        println!("bounded loop: {bounded} insns, bpf_loop: {with_bpf_loop} insns");
        assert!(bounded > 10 * 5, "{bounded}");
        assert!(
            with_bpf_loop < bounded,
            "bpf_loop {with_bpf_loop}, bounded {bounded}"
        );
    }
}
