//! Check for exercise 2.4: hello-tail runs on every syscall although the loader never names
//! the tracepoint.

use std::time::Duration;

use chapter02::syscalls::TIMER_SYSCALLS;
use ebpf_support::TraceLine;
use ebpf_support::testing::{self, exec_marked, exercise_failed, lock_trace_pipe, unique_comm};

#[path = "common.rs"]
mod common;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch02-4-auto-attach");

/// Runs in the child between fork and exec: creates and deletes a timer.
fn make_a_timer() {
    let [create, .., delete] = TIMER_SYSCALLS;
    // SAFETY: raw timer syscalls with valid arguments; the timer is deleted again.
    unsafe {
        let mut timer: libc::c_int = 0;
        libc::syscall(
            create,
            libc::CLOCK_MONOTONIC,
            std::ptr::null::<libc::c_void>(),
            &mut timer,
        );
        libc::syscall(delete, timer);
    }
}

#[test]
fn hello_is_attached_by_its_section_name() {
    testing::require_kernel();
    let _lock = lock_trace_pipe();
    let mut program = common::start(PROGRAM, &[]);
    let pid = exec_marked(&unique_comm("auto"), None, make_a_timer);
    let created = program.wait_for_line(Duration::from_secs(10), |line| {
        TraceLine::parse(line).is_some_and(|t| t.pid == pid && t.message == "Creating a timer")
    });
    let objects = program.objects();
    let _ = program.interrupt();
    if created.is_err() {
        exercise_failed(
            &format!("a `Creating a timer` line from pid {pid}, which called timer_create"),
            &format!(
                "no such line within 10 s; it holds {} link(s), so hello is not attached to sys_enter",
                objects.links.len()
            ),
        );
    }
    if objects.links.len() != 1 {
        exercise_failed(
            "exactly one attached program (hello)",
            &format!("{} links", objects.links.len()),
        );
    }
}
