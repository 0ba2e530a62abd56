//! Check for exercise 7.2: of hello.bpf.c's three programs, the loader loads and attaches only
//! the raw tracepoint program `raw_tp_exec`. The check asks the kernel which programs and links
//! the process holds, and runs /bin/true to see the one program report it.

use std::time::Duration;

use ebpf_support::testing::{self, exec_marked, exercise_failed, unique_comm};

#[path = "common.rs"]
mod common;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch07-2-one-program");

#[test]
fn only_the_raw_tracepoint_program_is_loaded_and_attached() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &[]);
    let objects = program.objects();
    let names: Vec<String> = libbpf_rs::query::ProgInfoIter::default()
        .filter(|info| objects.progs.contains(&info.id))
        .map(|info| info.name.to_string_lossy().into_owned())
        .collect();
    if names != ["raw_tp_exec"] {
        exercise_failed(
            "one program loaded, raw_tp_exec (the kernel's list of the process's programs)",
            &format!("{} loaded: {}", names.len(), names.join(", ")),
        );
    }
    let links = common::attachments(&objects.links);
    match &links[..] {
        [one] if one.hook == common::Hook::RawTracepoint("sched_process_exec".into()) => {}
        _ => exercise_failed(
            "1 link: raw_tp_exec on raw tracepoint sched_process_exec",
            &common::describe(&links),
        ),
    }

    // The one program still works: it reports /bin/true once it has replaced the caller.
    let pid = exec_marked(&unique_comm("one"), None, || {});
    let wanted = format!("raw_tp: {pid} true /bin/true");
    if let Err(seen) = program.wait_for_line(Duration::from_secs(10), |l| l == wanted) {
        panic!("the raw tracepoint program printed no {wanted:?}; it printed {seen:#?}");
    }
    println!("{}\n{wanted}", common::describe(&links));
}
