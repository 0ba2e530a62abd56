//! Check for exercise 4.5: the program runs as a raw tracepoint program on sys_enter (the
//! kernel's program and link info say so), and still reports each execve once, with the
//! configured message.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::Duration;

use ebpf_support::testing::{
    self, Session, TestUser, exec_marked, exercise_failed, program_types, unique_comm,
};
use libbpf_rs::ProgramType;
use libbpf_rs::libbpf_sys;
use libbpf_rs::query::{LinkInfo, LinkTypeInfo, PerfEventType};

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch04-5-raw-tracepoint");

/// Where each of the process's links attaches, as the kernel reports it.
fn hooks(links: &std::collections::BTreeSet<u32>) -> Vec<String> {
    links
        .iter()
        .filter_map(|&id| {
            let fd = unsafe { libbpf_sys::bpf_link_get_fd_by_id(id) };
            if fd < 0 {
                return None;
            }
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            let info = LinkInfo::from_fd(fd.as_fd()).ok()?;
            Some(match info.info {
                LinkTypeInfo::RawTracepoint(tp) => format!("raw tracepoint {}", tp.name),
                LinkTypeInfo::PerfEvent(event) => match event.event_type {
                    PerfEventType::Tracepoint {
                        name: Some(name), ..
                    } => format!("tracepoint {}", name.to_string_lossy()),
                    other => format!("a perf event ({other:?})"),
                },
                other => format!("{other:?}"),
            })
        })
        .collect()
}

#[test]
fn hello_runs_on_the_raw_tracepoint_sys_enter() {
    testing::require_kernel();
    let user = TestUser::unique();
    let entry = format!("{}=Hi tester", user.uid);
    let mut program = Session::spawn(PROGRAM, &["--message", &entry]);
    if let Err(seen) = program.wait_for_line(Duration::from_secs(30), |l| l.contains(": attached"))
    {
        panic!(
            "the program did not load and attach, so nothing could be checked; it printed {seen:#?}"
        );
    }
    let objects = program.objects();
    let types = program_types(&objects.progs);
    let hooks = hooks(&objects.links);
    if types != [ProgramType::RawTracepoint] || hooks != ["raw tracepoint sys_enter"] {
        let _ = program.interrupt();
        exercise_failed(
            "one raw tracepoint program, attached to the raw tracepoint sys_enter",
            &format!("programs of type {types:?}, attached to {hooks:?}"),
        );
    }

    let comm = unique_comm("rawtp");
    let pid = exec_marked(&comm, Some(user), || {});
    let prefix = format!("{pid} {} {comm} ", user.uid);
    let mut lines = Vec::new();
    // Every line for that process within a moment: an exec must give one, not one per syscall.
    while let Ok(line) =
        program.wait_for_line(Duration::from_millis(700), |l| l.starts_with(&prefix))
    {
        lines.push(line);
    }
    let _ = program.interrupt();
    let expected = format!("{prefix}Hi tester");
    if lines != [expected.clone()] {
        exercise_failed(
            &format!("one line `{expected}` for one exec (execve calls only)"),
            &format!("{} lines for it: {lines:?}", lines.len()),
        );
    }
    println!("hello runs on the raw tracepoint sys_enter and reports each execve once");
}
