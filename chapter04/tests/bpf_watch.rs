//! bpf-watch on the real kernel, next to strace on the same program.

use std::process::Command;

use ebpf_support::needs::Capability;
use ebpf_support::testing::{self, Session, TestUser, WaitStatus};

const TARGET: &str = env!("CARGO_BIN_EXE_hello-buffer-config");

/// The bpf() commands in `strace -f -e trace=bpf` output, by name.
fn strace_commands(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter_map(|line| line.split_once(" bpf(")?.1.split(',').next())
        .map(|cmd| match cmd.split_once(" /*") {
            // A command this strace does not know: `0x24 /* BPF_??? */`.
            Some((number, _)) => chapter04::bpf_commands::name(
                u32::from_str_radix(number.trim_start_matches("0x"), 16).unwrap(),
            ),
            None => cmd.to_string(),
        })
        .collect()
}

/// `insn_cnt=42` from the strace line that loads the program called `name`.
fn strace_insn_cnt(trace: &str, name: &str) -> u32 {
    let line = trace
        .lines()
        .find(|l| l.contains("BPF_PROG_LOAD") && l.contains(&format!("prog_name=\"{name}\"")))
        .unwrap_or_else(|| panic!("no PROG_LOAD of {name} in {trace}"));
    let count = line.split("insn_cnt=").nth(1).unwrap();
    count[..count.find(',').unwrap()].parse().unwrap()
}

fn position(lines: &[&str], what: &str, wanted: impl Fn(&str) -> bool) -> usize {
    lines
        .iter()
        .position(|l| wanted(l))
        .unwrap_or_else(|| panic!("no {what} in {lines:#?}"))
}

/// The fd a call returned: `… = 5    # …`.
fn returned_fd(line: &str) -> u32 {
    let (_, rest) = line.rsplit_once(" = ").unwrap();
    rest.split_whitespace().next().unwrap().parse().unwrap()
}

mod bpf_watch {
    use super::*;

    #[test]
    fn sees_the_same_calls_as_strace_in_the_books_order() {
        if !testing::ready_for(&chapter04::BPF_WATCH)
            || !testing::ready_for(&chapter04::HELLO_BUFFER_CONFIG)
            || !testing::tool("strace", "chapter 4's comparison of bpf-watch with strace")
        {
            return;
        }
        let user = TestUser::unique();
        let entry = format!("{}=Hi tester", user.uid);
        let target_args = ["--trigger", "--count", "1", "--message", &entry];

        let mut args = vec!["--", TARGET];
        args.extend(target_args);
        let session = Session::spawn(env!("CARGO_BIN_EXE_bpf-watch"), &args);
        let (status, output) = session.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        assert!(
            output.contains("bpf-watch: the command exited with 0"),
            "{output}"
        );
        // The watched command writes to the same terminal, and a line of its own may be cut in
        // two by one of ours: a call is wherever a line has `BPF_`.
        let calls: Vec<&str> = output
            .lines()
            .filter_map(|l| l.find("BPF_").map(|at| &l[at..]))
            .collect();

        let trace_file = std::env::temp_dir().join(format!("bpf-watch-{}.strace", user.uid));
        let strace = Command::new("strace")
            .args(["-f", "-e", "trace=bpf", "-o"])
            .arg(&trace_file)
            .arg(TARGET)
            .args(target_args)
            .output()
            .expect("run strace");
        assert!(strace.status.success(), "{strace:?}");
        let trace = std::fs::read_to_string(&trace_file).unwrap();
        std::fs::remove_file(&trace_file).unwrap();

        let ours: Vec<String> = calls
            .iter()
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect();
        assert_eq!(
            ours,
            strace_commands(&trace),
            "bpf-watch printed:\n{output}"
        );

        // The book's steps, in order: BTF, the config map, the program, the config entry.
        let btf = position(&calls, "BTF_LOAD", |l| l.starts_with("BPF_BTF_LOAD = "));
        let config = position(&calls, "the config map", |l| {
            l.starts_with(
                "BPF_MAP_CREATE map_type=Hash name=\"config\" key_size=4 value_size=12 \
                 max_entries=10240 = ",
            )
        });
        // The book's kprobe where this kernel has kprobes, else the tracepoint stand-in.
        let hello_type = if ebpf_support::has(Capability::Ksyscall) {
            "Kprobe"
        } else {
            "Tracepoint"
        };
        let hello = position(&calls, "the hello program", |l| {
            l.starts_with(&format!(
                "BPF_PROG_LOAD prog_type={hello_type} name=\"hello\" insn_cnt={} = ",
                strace_insn_cnt(&trace, "hello")
            ))
        });
        // The config entries, written between load and attach. (Not by the fd MAP_CREATE
        // returned: libbpf moves each map to an fd it reserved when the object was opened.)
        let hello_fd = returned_fd(calls[hello]);
        // Before 5.15 a kprobe or tracepoint attachment is no BPF link: libbpf's probe for
        // one fails (EINVAL), and it attaches through perf_event_open and an ioctl instead.
        let link = if ebpf_support::has(Capability::PerfEventLink) {
            position(&calls, "the link", |l| {
                l.starts_with(&format!(
                    "BPF_LINK_CREATE prog_fd={hello_fd} attach_type=BPF_PERF_EVENT = "
                )) && !l.contains("= -1")
            })
        } else {
            assert!(
                !calls
                    .iter()
                    .any(|l| l.starts_with("BPF_LINK_CREATE") && !l.contains("= -1")),
                "{calls:#?}"
            );
            // The attach starts where libbpf asks whether the kernel has such links.
            position(&calls, "libbpf's probe for perf-event links", |l| {
                l.starts_with("BPF_LINK_CREATE")
            })
        };
        let updates = calls[hello..link]
            .iter()
            .filter(|l| l.starts_with("BPF_MAP_UPDATE_ELEM map_fd="))
            .count();
        let entries = chapter04::config_entries(&[(user.uid, "Hi tester".into())]).len();
        assert_eq!(updates, entries, "{calls:#?}");
        let update = hello
            + 1
            + position(&calls[hello + 1..], "an update", |l| {
                l.starts_with("BPF_MAP_UPDATE_ELEM map_fd=")
            });
        assert!(
            btf < config && config < hello && hello < update && update < link,
            "{calls:#?}"
        );
        assert!(
            calls[config].ends_with("# create a map; the result is its fd"),
            "{}",
            calls[config]
        );
    }

    #[test]
    fn watches_a_running_process_by_pid() {
        if !testing::ready_for(&chapter04::BPF_WATCH)
            || !testing::tool(
                "bpftool",
                "chapter 4's bpf-watch --pid on `bpftool map list`",
            )
        {
            return;
        }
        // A shell that waits for a line and then becomes bpftool (same pid): the book's
        // `bpftool map list`, which finds maps by walking their ids.
        let mut target = Command::new("sh")
            .args(["-c", "read go; exec bpftool map list"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = target.id().to_string();
        let mut session = Session::spawn(env!("CARGO_BIN_EXE_bpf-watch"), &["--pid", &pid]);
        session.expect_line("attached", |l| l.contains(": attached"));
        use std::io::Write;
        writeln!(target.stdin.take().unwrap(), "go").unwrap();
        assert!(target.wait().unwrap().success());
        let (status, output) = session.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        assert!(
            output.contains(&format!("bpf-watch: process {pid} has ended")),
            "{output}"
        );
        // The id walk ends when there is no next id.
        let walk: Vec<&str> = output
            .lines()
            .filter(|l| l.starts_with("BPF_MAP_GET_NEXT_ID"))
            .collect();
        assert!(
            walk.last()
                .is_some_and(|l| l.contains(" = -1 (No such file or directory")),
            "{output}"
        );
        assert!(
            output
                .lines()
                .any(|l| l.starts_with("BPF_MAP_GET_FD_BY_ID = ")),
            "{output}"
        );
    }

    #[test]
    fn a_process_that_does_not_exist_is_one_line() {
        if !testing::ready_for(&chapter04::BPF_WATCH) {
            return;
        }
        let output = Command::new(env!("CARGO_BIN_EXE_bpf-watch"))
            .args(["--pid", "999999999"])
            .output()
            .unwrap();
        testing::assert_one_line_error(&output, "bpf-watch: no process 999999999");
    }
}
