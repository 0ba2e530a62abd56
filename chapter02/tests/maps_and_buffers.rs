//! hello-map, hello-buffer and hello-ring-buffer on the real kernel.

use chapter02::counts::parse_counts;
use ebpf_support::has;
use ebpf_support::needs::Capability;
use ebpf_support::needs::Example;
use ebpf_support::testing::{
    self, Session, TestUser, WaitStatus, exec_marked, map_types, program_types, unique_comm,
};
use libbpf_rs::{MapType, ProgramType};

/// The hook `--attach` picks by default here: the book's kprobe where the kernel has kprobes.
fn default_hook() -> (&'static str, ProgramType) {
    if has(Capability::Ksyscall) {
        (
            "attached (kprobe on the execve syscall)",
            ProgramType::Kprobe,
        )
    } else {
        (
            "attached (tracepoint syscalls/sys_enter_execve)",
            ProgramType::Tracepoint,
        )
    }
}

/// Both buffer examples print `PID UID COMMAND MESSAGE` for each exec.
fn buffer_example_reports_each_exec(
    example: &Example,
    binary: &str,
    args: &[&str],
    map_type: MapType,
) {
    if !testing::ready_for(example) {
        return;
    }
    let mut session = Session::spawn(binary, args);
    let (attached, program_type) = if args.contains(&"tracepoint") {
        (
            "attached (tracepoint syscalls/sys_enter_execve)",
            ProgramType::Tracepoint,
        )
    } else {
        default_hook()
    };
    session.expect_line(attached, |l| l.contains(attached));
    let objects = session.objects();
    assert_eq!(program_types(&objects.progs), vec![program_type]);
    assert!(map_types(&objects.maps).contains(&map_type), "{objects:?}");

    let comm = unique_comm("buf");
    let pid = exec_marked(&comm, None, || {});
    let expected = format!("{pid} 0 {comm} Hello World");
    session.expect_line(&expected, |l| l == expected);

    let user = TestUser::unique();
    let comm = unique_comm("buf");
    let pid = exec_marked(&comm, Some(user), || {});
    let expected = format!("{pid} {} {comm} Hello World", user.uid);
    session.expect_line(&expected, |l| l == expected);

    let (status, _) = session.interrupt();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
    objects.assert_released();
}

mod hello_map {
    use super::*;

    #[test]
    fn counts_each_exec_under_its_user_id() {
        if !testing::ready_for(&chapter02::HELLO_MAP) {
            return;
        }
        let mut map = Session::spawn(env!("CARGO_BIN_EXE_hello-map"), &["--interval", "1"]);
        let (attached, program_type) = default_hook();
        map.expect_line(attached, |l| {
            l.starts_with("hello-map: ") && l.contains(attached)
        });
        let objects = map.objects();
        assert_eq!(program_types(&objects.progs), vec![program_type]);
        assert!(
            map_types(&objects.maps).contains(&MapType::Hash),
            "{objects:?}"
        );

        // A user no other process has: the map's count for it is exactly its execs, and the GID
        // (which differs) must not appear as a key.
        let user = TestUser::unique();
        for (execs, expected) in [(1, 1), (2, 3)] {
            for _ in 0..execs {
                exec_marked(&unique_comm("map"), Some(user), || {});
            }
            let line = map.expect_line(&format!("ID {}: {expected}", user.uid), |l| {
                let counts = parse_counts(l);
                counts.get(&u64::from(user.uid)) == Some(&expected)
            });
            let counts = parse_counts(&line);
            assert!(
                !counts.contains_key(&u64::from(user.gid)),
                "the GID is counted: {line}"
            );
        }

        let (status, _) = map.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();
    }

    #[test]
    fn count_stops_after_that_many_printouts() {
        if !testing::ready_for(&chapter02::HELLO_MAP) {
            return;
        }
        let map = Session::spawn(
            env!("CARGO_BIN_EXE_hello-map"),
            &["--interval", "1", "--count", "2", "--trigger"],
        );
        let (status, output) = map.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        let printouts: Vec<&str> = output.lines().filter(|l| l.starts_with("ID ")).collect();
        assert_eq!(printouts.len(), 2, "{output}");
    }

    #[test]
    fn timeout_ends_the_run() {
        if !testing::ready_for(&chapter02::HELLO_MAP) {
            return;
        }
        let started = std::time::Instant::now();
        let map = Session::spawn(
            env!("CARGO_BIN_EXE_hello-map"),
            &["--interval", "1", "--timeout", "2.5"],
        );
        let (status, output) = map.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(2500),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            output
                .lines()
                .filter(|l| l.starts_with("ID ") || l.starts_with('('))
                .count(),
            2,
            "{output}"
        );
    }
}

mod hello_buffer {
    use super::*;

    #[test]
    fn reports_each_exec_through_a_perf_buffer() {
        buffer_example_reports_each_exec(
            &chapter02::HELLO_BUFFER,
            env!("CARGO_BIN_EXE_hello-buffer"),
            &[],
            MapType::PerfEventArray,
        );
    }

    #[test]
    fn count_stops_after_that_many_events() {
        if !testing::ready_for(&chapter02::HELLO_BUFFER) {
            return;
        }
        let session = Session::spawn(
            env!("CARGO_BIN_EXE_hello-buffer"),
            &["--count", "2", "--trigger", "--timeout", "30"],
        );
        let (status, output) = session.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        assert_eq!(
            output
                .lines()
                .filter(|l| l.ends_with(" Hello World"))
                .count(),
            2,
            "{output}"
        );
    }
}

mod hello_ring_buffer {
    use super::*;

    #[test]
    fn reports_each_exec_through_a_ring_buffer() {
        buffer_example_reports_each_exec(
            &chapter02::HELLO_RING_BUFFER,
            env!("CARGO_BIN_EXE_hello-ring-buffer"),
            &[],
            MapType::RingBuf,
        );
    }

    #[test]
    fn reports_each_exec_through_the_tracepoint() {
        buffer_example_reports_each_exec(
            &chapter02::HELLO_RING_BUFFER,
            env!("CARGO_BIN_EXE_hello-ring-buffer"),
            &["--attach", "tracepoint"],
            MapType::RingBuf,
        );
    }

    #[test]
    fn stops_cleanly_on_sigterm() {
        if !testing::ready_for(&chapter02::HELLO_RING_BUFFER) {
            return;
        }
        let mut session = Session::spawn(env!("CARGO_BIN_EXE_hello-ring-buffer"), &["--trigger"]);
        session.expect_line("an event", |l| l.ends_with(" Hello World"));
        let objects = session.objects();
        let (status, _) = session.terminate();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();
    }
}
