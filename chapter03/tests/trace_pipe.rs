//! hello-func on the real kernel, and inspect on hello-func while it runs. Both read the global
//! trace pipe (or run a program that writes to it), so they take turns through a lock.

use std::process::Command;

use ebpf_support::TraceLine;
use ebpf_support::testing::{self, Session, WaitStatus, exec_marked, unique_comm};

const HELLO_FUNC: &str = env!("CARGO_BIN_EXE_hello-func");
const INSPECT: &str = env!("CARGO_BIN_EXE_inspect");

/// The marked child's syscalls, between fork and exec.
fn two_syscalls() {
    // SAFETY: raw syscalls without arguments.
    unsafe {
        libc::syscall(libc::SYS_getppid);
        libc::syscall(libc::SYS_sched_yield);
    }
}

/// Starts hello-func and returns it with the id of the program it loaded.
fn start_hello_func() -> (Session, u32) {
    let mut session = Session::spawn(HELLO_FUNC, &[]);
    let line = session.expect_line("the attach line", |l| {
        l.contains("attached to raw tracepoint sys_enter (program id ")
    });
    let id = line
        .split("program id ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no program id in {line:?}"));
    (session, id)
}

mod hello_func {
    use super::*;

    #[test]
    fn prints_the_number_of_each_syscall_of_a_marked_process() {
        if !testing::ready_for(&chapter03::HELLO_FUNC) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let (mut hello, id) = start_hello_func();
        let objects = hello.objects();
        assert!(objects.progs.contains(&id), "{objects:?}");
        assert_eq!(
            testing::program_types(&objects.progs),
            [libbpf_rs::ProgramType::RawTracepoint]
        );
        let pid = exec_marked(&unique_comm("func"), None, two_syscalls);
        let from_child = |wanted: i64| {
            move |line: &str| {
                TraceLine::parse(line)
                    .is_some_and(|l| l.pid == pid && l.message == format!("Syscall: {wanted}"))
            }
        };
        hello.expect_line(
            "getppid from the marked child",
            from_child(libc::SYS_getppid),
        );
        hello.expect_line(
            "sched_yield from the marked child",
            from_child(libc::SYS_sched_yield),
        );
        let (status, _) = hello.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();
    }

    #[test]
    fn count_prints_that_many_lines_and_exits() {
        if !testing::ready_for(&chapter03::HELLO_FUNC) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let hello = Session::spawn(HELLO_FUNC, &["--count", "5", "--timeout", "30"]);
        let (status, output) = hello.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        let lines: Vec<TraceLine> = output.lines().filter_map(TraceLine::parse).collect();
        assert_eq!(lines.len(), 5, "{output}");
        assert!(
            lines.iter().all(|l| l.message.starts_with("Syscall: ")),
            "{output}"
        );
    }
}

mod inspect {
    use super::*;

    fn bpftool(args: &[&str]) -> serde_json::Value {
        let output = Command::new("bpftool").args(args).output().unwrap();
        assert!(output.status.success(), "bpftool {args:?}: {output:?}");
        serde_json::from_slice(&output.stdout).unwrap()
    }

    fn inspect(args: &[&str]) -> String {
        let output = Command::new(INSPECT).args(args).output().unwrap();
        assert!(output.status.success(), "inspect {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    /// `2026-11-29T09:31:00+0000` (strftime's `%FT%T%z`, as bpftool writes it) in seconds
    /// since the epoch.
    fn seconds_since_epoch(text: &str) -> i64 {
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        let c_text = std::ffi::CString::new(text).unwrap();
        // SAFETY: strptime reads the NUL-terminated text and fills tm; timegm reads tm.
        let rest = unsafe { libc::strptime(c_text.as_ptr(), c"%FT%T%z".as_ptr(), &mut tm) };
        assert!(!rest.is_null(), "not a time: {text}");
        (unsafe { libc::timegm(&mut tm) }) - tm.tm_gmtoff
    }

    /// `word VALUE` in inspect's output, as bpftool's plain output writes it (`tag 7c6e…`).
    fn after<'a>(output: &'a str, word: &str) -> &'a str {
        output
            .split_whitespace()
            .skip_while(|w| *w != word)
            .nth(1)
            .unwrap_or_else(|| panic!("no {word} in {output}"))
    }

    #[test]
    fn agrees_with_bpftool_prog_show_and_dump_xlated_on_hello_func() {
        if !testing::ready_for(&chapter03::INSPECT)
            || !testing::tool("bpftool", "chapter 3's comparison of inspect with bpftool")
        {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let (hello, id) = start_hello_func();
        let ours = inspect(&["--id", &id.to_string()]);
        let show = bpftool(&["prog", "show", "id", &id.to_string(), "--json"]);
        let dump = bpftool(&["prog", "dump", "xlated", "id", &id.to_string(), "--json"]);
        let (status, _) = hello.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");

        let first = ours.lines().next().unwrap();
        assert_eq!(
            first,
            format!(
                "{id}: {}  name {}  tag {}  gpl",
                show["type"].as_str().unwrap(),
                show["name"].as_str().unwrap(),
                show["tag"].as_str().unwrap()
            )
        );
        assert_eq!(show["gpl_compatible"], true);
        assert_eq!(after(&ours, "uid"), show["uid"].to_string());
        assert_eq!(after(&ours, "xlated"), format!("{}B", show["bytes_xlated"]));
        assert_eq!(after(&ours, "jited"), format!("{}B", show["bytes_jited"]));
        let maps: Vec<String> = show["map_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.to_string())
            .collect();
        assert_eq!(after(&ours, "map_ids"), maps.join(","));
        assert_eq!(after(&ours, "btf_id"), show["btf_id"].to_string());
        // Both turn the load time since boot into the wall clock; a second may tick between.
        let loaded_at = after(&ours, "loaded_at");
        let ours_at = seconds_since_epoch(loaded_at);
        let theirs_at = show["loaded_at"].as_i64().unwrap();
        assert!(
            (ours_at - theirs_at).abs() <= 1,
            "{loaded_at} vs {theirs_at}"
        );

        // Instruction by instruction, the same text as the kernel's own disassembler in bpftool.
        let ours_xlated: Vec<&str> = ours
            .lines()
            .filter_map(|l| l.trim_start().split_once(": ("))
            .map(|(_, rest)| rest)
            .collect();
        let theirs: Vec<String> = dump
            .as_array()
            .unwrap()
            .iter()
            .map(|insn| {
                insn["disasm"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches('(')
                    .to_string()
            })
            .collect();
        assert_eq!(ours_xlated, theirs, "{ours}");
        // The BPF-to-BPF call to get_opcode is there, and get_opcode is a function of its own.
        assert!(
            ours.lines()
                .any(|l| l.contains("(85) call pc+") && l.ends_with("_get_opcode")),
            "{ours}"
        );
        assert!(ours.lines().any(|l| l == "get_opcode:"), "{ours}");
    }

    #[test]
    fn finds_programs_by_name_and_by_pin() {
        if !testing::ready_for(&chapter03::INSPECT)
            || !testing::tool(
                "bpftool",
                "chapter 3's inspect --pin test (bpftool pins the program)",
            )
        {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let (hello, id) = start_hello_func();
        let by_name = inspect(&["--name", "hello"]);
        assert!(
            by_name
                .lines()
                .any(|l| l.starts_with(&format!("{id}: raw_tracepoint  name hello  tag "))),
            "{by_name}"
        );
        let pinned = pin(id);
        let by_pin = inspect(&["--pinned", pinned.path.to_str().unwrap()]);
        assert_eq!(
            by_pin.lines().next(),
            by_name.lines().find(|l| l.starts_with(&format!("{id}:")))
        );
        drop(pinned);
        let (status, _) = hello.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
    }

    #[test]
    fn a_missing_program_is_one_line() {
        if !testing::ready_for(&chapter03::INSPECT) {
            return;
        }
        let output = Command::new(INSPECT)
            .args(["--name", "no_such_prog"])
            .output()
            .unwrap();
        testing::assert_one_line_error(&output, "inspect: there is no program named no_such_prog");
    }

    /// A pin of program `id` in bpffs, removed on drop.
    struct Pin {
        path: std::path::PathBuf,
    }

    impl Drop for Pin {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    fn pin(id: u32) -> Pin {
        let path = std::path::PathBuf::from(format!(
            "/sys/fs/bpf/learning-ebpf-inspect-test-{}",
            std::process::id()
        ));
        if !std::path::Path::new("/sys/fs/bpf").join(".").exists()
            || Command::new("mountpoint")
                .args(["-q", "/sys/fs/bpf"])
                .status()
                .map(|s| !s.success())
                .unwrap_or(true)
        {
            let status = Command::new("mount")
                .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
                .status()
                .unwrap();
            assert!(status.success(), "mounting bpffs");
        }
        let status = Command::new("bpftool")
            .args(["prog", "pin", "id", &id.to_string()])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success(), "bpftool prog pin");
        Pin { path }
    }
}
