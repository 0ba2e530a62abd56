//! Check for exercise 5.6: hello's section is a name libbpf does not know, and the loader
//! still runs it on the execve tracepoint, where it reports execs.

use std::ffi::CString;
use std::mem::MaybeUninit;
use std::time::Duration;

use ebpf_support::testing::{self, TestUser, exec_marked, exercise_failed, unique_comm};
use libbpf_rs::libbpf_sys;
use libbpf_rs::skel::SkelBuilder;

#[path = "common.rs"]
mod common;
use common::{Hook, describe};

// The exercise's own skeleton: the check reads the program's section from it.
ebpf_support::skeleton!(hello_buffer_config);

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch05-6-section-name");

/// hello's section name, as libbpf reads it from the compiled object.
fn section_of_hello() -> String {
    let mut object = MaybeUninit::uninit();
    let open = hello_buffer_config::HelloBufferConfigSkelBuilder::default()
        .open(&mut object)
        .expect("opening the exercise's skeleton");
    open.progs.hello.section().to_string_lossy().into_owned()
}

/// The program type libbpf reads from a section name, if it knows the name.
fn libbpf_reads(section: &str) -> Option<libbpf_sys::bpf_prog_type> {
    let name = CString::new(section).unwrap();
    let (mut prog_type, mut attach_type) = (0, 0);
    // SAFETY: a lookup in libbpf's table of section names; writes two integers.
    let known = unsafe {
        libbpf_sys::libbpf_prog_type_by_name(name.as_ptr(), &mut prog_type, &mut attach_type)
    };
    (known == 0).then_some(prog_type)
}

#[test]
fn hello_runs_from_a_section_of_its_own() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &[]);
    let links = common::attachments(&program.objects().links);
    if !matches!(&links[..], [only] if only.program == "hello"
        && only.hook == Hook::Tracepoint("sys_enter_execve".into()))
    {
        exercise_failed(
            "one link: hello on the tracepoint syscalls/sys_enter_execve",
            &describe(&links),
        );
    }
    let user = TestUser::unique();
    let comm = unique_comm("sec");
    let pid = exec_marked(&comm, Some(user), || {});
    let expected = format!("{pid} {} {comm} Hello World /bin/true", user.uid);
    let seen = program.wait_for_line(Duration::from_secs(10), |l| l == expected);
    let _ = program.interrupt();
    if let Err(seen) = seen {
        exercise_failed(&expected, &format!("{seen:?}"));
    }

    let section = section_of_hello();
    if let Some(prog_type) = libbpf_reads(&section) {
        exercise_failed(
            "a section name of your own for hello, which libbpf cannot read a program type \
             from, e.g. SEC(\"hello_execve\")",
            &format!("SEC({section:?}), which libbpf reads as program type {prog_type}"),
        );
    }
    println!(
        "{} (section {section:?}: the loader set the type and attached it)",
        describe(&links)
    );
}
