//! Check for exercise 2.4: hello's section names sys_enter, libbpf attaches it from there, and
//! the loader no longer names the tracepoint.

use std::mem::MaybeUninit;
use std::time::Duration;

use chapter02::syscalls::TIMER_SYSCALLS;
use ebpf_support::TraceLine;
use ebpf_support::testing::{
    self, TestUser, exec_marked, exercise_failed, lock_trace_pipe, unique_comm,
};
use libbpf_rs::skel::SkelBuilder;

#[path = "common.rs"]
mod common;
use common::{Hook, describe};

// The exercise's own skeleton: the check reads the program's section from it.
ebpf_support::skeleton!(hello_tail);

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch02-4-auto-attach");
const LOADER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/main.rs");

/// Runs in the child between fork and exec, as the test user: creates and deletes a timer.
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

/// hello's section name, as libbpf reads it from the compiled object.
fn section_of_hello() -> String {
    let mut object = MaybeUninit::uninit();
    let open = hello_tail::HelloTailSkelBuilder::default()
        .open(&mut object)
        .expect("opening the exercise's skeleton");
    open.progs.hello.section().to_string_lossy().into_owned()
}

#[test]
fn hello_is_attached_by_its_section_name() {
    testing::require_kernel();
    let section = section_of_hello();
    if !["raw_tp/sys_enter", "raw_tracepoint/sys_enter"].contains(&section.as_str()) {
        exercise_failed(
            "hello's section names its hook, like RAW_TRACEPOINT_PROBE(sys_enter): \
             SEC(\"raw_tp/sys_enter\")",
            &format!("SEC({section:?})"),
        );
    }

    let _lock = lock_trace_pipe();
    let mut program = common::start(PROGRAM, &[]);
    let links = common::attachments(&program.objects().links);
    if !matches!(&links[..], [only] if only.program == "hello"
        && only.hook == Hook::RawTracepoint("sys_enter".into()))
    {
        exercise_failed(
            "one link: hello on the raw tracepoint sys_enter (the tail-call targets stay \
             unattached)",
            &describe(&links),
        );
    }

    let user = TestUser::unique();
    let pid = exec_marked(&unique_comm("auto"), Some(user), make_a_timer);
    let created = program.wait_for_line(Duration::from_secs(10), |line| {
        TraceLine::parse(line).is_some_and(|t| t.pid == pid && t.message == "Creating a timer")
    });
    let _ = program.interrupt();
    if let Err(seen) = created {
        let from_pid: Vec<&String> = seen
            .iter()
            .filter(|line| TraceLine::parse(line).is_some_and(|t| t.pid == pid))
            .collect();
        exercise_failed(
            &format!("a `Creating a timer` line from pid {pid}, which called timer_create"),
            &format!("within 10 s, these lines from pid {pid}: {from_pid:?}"),
        );
    }

    let source = std::fs::read_to_string(LOADER).expect("reading the loader");
    let named = source.lines().enumerate().find(|(_, line)| {
        let code = line.split("//").next().unwrap_or_default();
        code.contains("attach_raw_tracepoint")
    });
    if let Some((n, line)) = named {
        exercise_failed(
            "src/main.rs leaves the attaching to libbpf, with no call that names the raw \
             tracepoint (the book removes b.attach_raw_tracepoint())",
            &format!("src/main.rs:{}: {}", n + 1, line.trim()),
        );
    }
    println!(
        "{} (attached by its section, {section:?})",
        describe(&links)
    );
}
