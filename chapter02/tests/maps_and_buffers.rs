//! hello-map, hello-buffer and hello-ring-buffer on the real kernel.

use chapter02::counts::parse_counts;
use ebpf_support::testing::{self, Session, WaitStatus, exec_marked, unique_comm};
use ebpf_support::{Feature, has};

/// The hook `--attach auto` must pick here: the book's kprobe where the kernel has kprobes.
fn auto_hook() -> &'static str {
    if has(Feature::Kprobes) {
        "attached (kprobe on the execve syscall)"
    } else {
        "attached (tracepoint syscalls/sys_enter_execve)"
    }
}

const NOBODY: u64 = 65534;

#[test]
fn hello_map_counts_execs_per_user_id() {
    if !testing::kernel_ready() {
        return;
    }
    let mut map = Session::spawn(env!("CARGO_BIN_EXE_hello-map"), &["--interval", "1"]);
    map.expect_line(auto_hook(), |l| {
        l.starts_with("hello-map: ") && l.contains(auto_hook())
    });
    let objects = map.objects();

    exec_marked(&unique_comm("map"), None, || {});
    exec_marked(&unique_comm("map"), Some(NOBODY as u32), || {});
    let line = map.expect_line("counts for root and nobody", |l| {
        let counts = parse_counts(l);
        counts.iter().any(|&(id, n)| id == 0 && n >= 1)
            && counts.iter().any(|&(id, n)| id == NOBODY && n >= 1)
    });
    let ids: Vec<u64> = parse_counts(&line).into_iter().map(|(id, _)| id).collect();
    assert!(ids.is_sorted(), "IDs are printed in order: {line}");

    let (status, _) = map.interrupt();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
    objects.assert_released();
}

#[test]
fn hello_map_count_stops_after_that_many_printouts() {
    if !testing::kernel_ready() {
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

/// Both buffer examples print `PID UID COMMAND MESSAGE` for each exec.
fn buffer_example_reports_each_exec(binary: &str, args: &[&str]) {
    if !testing::kernel_ready() {
        return;
    }
    let mut session = Session::spawn(binary, args);
    let hook = if args.contains(&"tracepoint") {
        "attached (tracepoint syscalls/sys_enter_execve)"
    } else {
        auto_hook()
    };
    session.expect_line(hook, |l| l.contains(hook));
    let objects = session.objects();

    let comm = unique_comm("buf");
    let pid = exec_marked(&comm, None, || {});
    let expected = format!("{pid} 0 {comm} Hello World");
    session.expect_line(&expected, |l| l == expected);

    let comm = unique_comm("buf");
    let pid = exec_marked(&comm, Some(NOBODY as u32), || {});
    let expected = format!("{pid} {NOBODY} {comm} Hello World");
    session.expect_line(&expected, |l| l == expected);

    let (status, _) = session.interrupt();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
    objects.assert_released();
}

#[test]
fn hello_buffer_reports_each_exec_through_a_perf_buffer() {
    buffer_example_reports_each_exec(env!("CARGO_BIN_EXE_hello-buffer"), &[]);
}

#[test]
fn hello_ring_buffer_reports_each_exec_through_a_ring_buffer() {
    buffer_example_reports_each_exec(env!("CARGO_BIN_EXE_hello-ring-buffer"), &[]);
}

#[test]
fn hello_ring_buffer_reports_each_exec_through_the_tracepoint() {
    buffer_example_reports_each_exec(
        env!("CARGO_BIN_EXE_hello-ring-buffer"),
        &["--attach", "tracepoint"],
    );
}

#[test]
fn hello_ring_buffer_stops_cleanly_on_sigterm() {
    if !testing::kernel_ready() {
        return;
    }
    let mut session = Session::spawn(env!("CARGO_BIN_EXE_hello-ring-buffer"), &["--trigger"]);
    session.expect_line("an event", |l| l.ends_with(" Hello World"));
    let objects = session.objects();
    let (status, _) = session.terminate();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
    objects.assert_released();
}

#[test]
fn hello_map_timeout_ends_the_run() {
    if !testing::kernel_ready() {
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

#[test]
fn hello_buffer_count_stops_after_that_many_events() {
    if !testing::kernel_ready() {
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
