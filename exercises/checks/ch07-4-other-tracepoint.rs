//! Check for exercise 7.4: besides chapter 7's program on the execve tracepoint, the reader's
//! program on sched/sched_process_exit (as tp/, tp_btf/ or raw_tp/) reports a process as it
//! exits. The check runs a process with a name of its own and asks the kernel where the
//! program's links attach.

use std::time::Duration;

use ebpf_support::testing::{self, exec_marked, exercise_failed, unique_comm};

#[path = "common.rs"]
mod common;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch07-4-other-tracepoint");

#[test]
fn a_process_is_reported_as_it_exits() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &[]);
    let links = common::attachments(&program.objects().links);
    let on_exit = links.iter().any(|a| match &a.hook {
        common::Hook::Tracepoint(name) | common::Hook::RawTracepoint(name) => {
            name == "sched_process_exit"
        }
        common::Hook::Other(_) => false,
    });
    if !on_exit {
        exercise_failed(
            "a program attached to the sched_process_exit tracepoint",
            &common::describe(&links),
        );
    }

    // /bin/true, started by a process named `comm`: it execs (the execve line shows the
    // name it started with), then exits as `true`.
    let comm = unique_comm("exit");
    let pid = exec_marked(&comm, None, || {});
    let execve = format!("execve: {pid} {comm} /bin/true");
    let exit = format!("exit: {pid} true");
    // Each CPU has its own perf buffer, so the two lines may come in either order.
    let (mut saw_execve, mut saw_exit) = (false, false);
    let result = program.wait_for_line(Duration::from_secs(10), |l| {
        saw_execve |= l == execve;
        saw_exit |= l == exit;
        saw_execve && saw_exit
    });
    match (result, saw_execve) {
        (Ok(_), _) => println!("{execve}\n{exit}"),
        (Err(seen), false) => {
            panic!("chapter 7's execve program printed no {execve:?}; it printed {seen:#?}")
        }
        (Err(seen), true) => exercise_failed(
            &format!("`{exit}` once /bin/true (pid {pid}) exits"),
            &format!("within 10 s it printed {seen:?}"),
        ),
    }
}
