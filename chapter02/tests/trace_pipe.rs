//! hello and hello-tail on the real kernel: both print the global trace pipe, so they take
//! turns through a lock.

use ebpf_support::has;
use ebpf_support::needs::Capability;
use ebpf_support::testing::{self, Session, WaitStatus, exec_marked, unique_comm};

const HELLO: &str = env!("CARGO_BIN_EXE_hello");
const HELLO_TAIL: &str = env!("CARGO_BIN_EXE_hello-tail");

/// The notice (or its absence) that tells the reader which hook is in use.
fn expect_attach_notice(session: &mut Session) {
    if has(Capability::Ksyscall) {
        session.expect_line("the kprobe attach", |l| {
            l.contains("attached (kprobe on the execve syscall)")
        });
    } else {
        let notice = session.expect_line("the fallback notice", |l| l.contains("no kprobes"));
        assert_eq!(
            notice,
            "hello: this kernel has no kprobes (CONFIG_KPROBES is off: /sys/bus/event_source/devices/kprobe is \
             missing); using the tracepoint syscalls/sys_enter_execve instead"
        );
        session.expect_line("the attach line", |l| {
            l.contains("attached (tracepoint syscalls/sys_enter_execve)")
        });
    }
}

/// A `trace_pipe` line from `pid` with exactly `message`.
fn is_line(line: &str, pid: u32, message: &str) -> bool {
    testing_line(line).is_some_and(|t| t.pid == pid && t.message == message)
}

fn testing_line(line: &str) -> Option<ebpf_support::TraceLine> {
    ebpf_support::TraceLine::parse(line)
}

/// The child's syscalls, between fork and exec: one ignored, one printed, two timers.
fn syscalls_for_hello_tail() {
    // SAFETY: raw syscalls with valid arguments; the timer is deleted again.
    unsafe {
        libc::syscall(libc::SYS_sched_yield);
        libc::syscall(libc::SYS_getppid);
        let mut timer: libc::c_int = 0;
        libc::syscall(
            libc::SYS_timer_create,
            libc::CLOCK_MONOTONIC,
            std::ptr::null::<libc::c_void>(),
            &mut timer,
        );
        libc::syscall(libc::SYS_timer_delete, timer);
    }
}

mod hello {
    use super::*;

    #[test]
    fn prints_hello_world_when_a_program_runs_and_detaches_on_ctrl_c() {
        if !testing::ready_for(&chapter02::HELLO) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let mut hello = Session::spawn(HELLO, &[]);
        expect_attach_notice(&mut hello);
        let objects = hello.objects();

        let pid = exec_marked(&unique_comm("hello"), None, || {});
        let line = hello.expect_line("Hello World from the marked exec", |l| {
            is_line(l, pid, "Hello World")
        });
        assert!(line.contains("bpf_trace_printk: Hello World"), "{line}");

        let (status, _) = hello.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();
    }

    #[test]
    fn count_prints_that_many_lines_and_exits() {
        if !testing::ready_for(&chapter02::HELLO) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let hello = Session::spawn(HELLO, &["--count", "3", "--trigger", "--timeout", "30"]);
        let (status, output) = hello.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        let lines: Vec<_> = output.lines().filter_map(testing_line).collect();
        assert_eq!(lines.len(), 3, "{output}");
        assert!(lines.iter().all(|l| l.message == "Hello World"), "{output}");
    }

    /// The fallback hook works on every kernel, so it is proven everywhere, whatever `auto` picks.
    #[test]
    fn attach_tracepoint_works_on_any_kernel() {
        if !testing::ready_for(&chapter02::HELLO) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let mut hello = Session::spawn(HELLO, &["--attach", "tracepoint"]);
        hello.expect_line("the attach line", |l| {
            l.contains("attached (tracepoint syscalls/sys_enter_execve)")
        });
        let objects = hello.objects();
        // The one eBPF function was retyped before it loaded: the kernel holds a tracepoint program.
        assert_eq!(
            testing::program_types(&objects.progs),
            vec![libbpf_rs::ProgramType::Tracepoint]
        );
        let pid = exec_marked(&unique_comm("tp"), None, || {});
        hello.expect_line("Hello World via the tracepoint", |l| {
            is_line(l, pid, "Hello World")
        });
        let (status, _) = hello.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();
    }

    #[test]
    fn stops_cleanly_on_sigterm() {
        if !testing::ready_for(&chapter02::HELLO) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let mut hello = Session::spawn(HELLO, &["--trigger"]);
        hello.expect_line("a Hello World line", |l| l.ends_with("Hello World"));
        let objects = hello.objects();
        let (status, _) = hello.terminate();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();
    }

    /// `--attach kprobe` is the book's own hook. Where the kernel has kprobes it must work; where
    /// it has none (this project's CI host) the reader gets one line saying so.
    #[test]
    fn attach_kprobe_uses_a_real_kprobe_or_says_why_not() {
        if !testing::ready_for(&chapter02::HELLO) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        if has(Capability::Ksyscall) {
            let mut hello = Session::spawn(HELLO, &["--attach", "kprobe"]);
            hello.expect_line("the kprobe attach", |l| {
                l.contains("attached (kprobe on the execve syscall)")
            });
            let objects = hello.objects();
            assert_eq!(
                testing::program_types(&objects.progs),
                vec![libbpf_rs::ProgramType::Kprobe]
            );
            let pid = exec_marked(&unique_comm("kprobe"), None, || {});
            hello.expect_line("Hello World via the kprobe", |l| {
                is_line(l, pid, "Hello World")
            });
            let (status, _) = hello.interrupt();
            assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
            objects.assert_released();
        } else {
            let output = std::process::Command::new(HELLO)
                .args(["--attach", "kprobe"])
                .output()
                .unwrap();
            testing::assert_one_line_error(
                &output,
                "hello: cannot attach to the kprobe on the execve syscall: this kernel has no kprobes",
            );
        }
    }
}

mod hello_tail {
    use super::*;

    #[test]
    fn count_stops_after_that_many_lines() {
        if !testing::ready_for(&chapter02::HELLO_TAIL) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let mut tail = Session::spawn(HELLO_TAIL, &["--count", "5", "--timeout", "30"]);
        tail.expect_line("the attach line", |l| {
            l.contains("attached to raw tracepoint sys_enter")
        });
        // An idle machine makes few syscalls that hello-tail does not ignore: make some.
        exec_marked(&unique_comm("count"), None, syscalls_for_hello_tail);
        let (status, output) = tail.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        assert_eq!(
            output.lines().filter_map(testing_line).count(),
            5,
            "{output}"
        );
    }

    #[test]
    fn routes_syscalls_through_tail_calls() {
        if !testing::ready_for(&chapter02::HELLO_TAIL) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let mut tail = Session::spawn(HELLO_TAIL, &[]);
        tail.expect_line("the attach line", |l| {
            l.contains("attached to raw tracepoint sys_enter")
        });
        let objects = tail.objects();
        assert_eq!(
            objects.progs.len(),
            4,
            "hello and its three tail-call targets: {objects:?}"
        );

        let pid = exec_marked(&unique_comm("tail"), None, syscalls_for_hello_tail);
        let mut messages = Vec::new();
        tail.expect_line(
            "Executing a program from the marked child",
            |line| match testing_line(line).filter(|t| t.pid == pid) {
                Some(t) => {
                    messages.push(t.message.clone());
                    t.message == "Executing a program"
                }
                None => false,
            },
        );
        let (status, _) = tail.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();

        let another = |nr: i64| format!("Another syscall: {nr}");
        assert!(
            messages.contains(&another(libc::SYS_getppid)),
            "{messages:?}"
        );
        assert!(
            !messages.contains(&another(libc::SYS_sched_yield)),
            "sched_yield should be ignored: {messages:?}"
        );
        let handled: Vec<&str> = messages
            .iter()
            .map(String::as_str)
            .filter(|m| !m.starts_with("Another syscall"))
            .collect();
        insta::assert_debug_snapshot!(handled, @r#"
        [
            "Creating a timer",
            "Deleting a timer",
            "Executing a program",
        ]
        "#);
    }
}
