//! Check for exercise 2.2: hello-map counts execve, openat and write calls per user, with a
//! program of its own for each syscall, all three counting into counter_table.

use std::collections::BTreeSet;

use ebpf_support::testing::{
    self, TestUser, exec_marked, exercise_failed, map_named, programs_per_map, unique_comm,
};

#[path = "common.rs"]
mod common;
use common::{Hook, count_of, describe, wait_for_counts};

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch02-2-shared-map");

const TRACEPOINTS: [&str; 3] = ["sys_enter_execve", "sys_enter_openat", "sys_enter_write"];

// Powers of two, so that the total says which of the syscalls were counted.
const EXECS: u64 = 1;
const OPENS: u64 = 2;
const WRITES: u64 = 4;

/// Runs in the child between fork and exec, as the test user. The execve fails (no such file),
/// and the process ends without exec'ing anything: a program that starts would open its
/// libraries and add openat calls of its own to the user's count.
fn execve_openat_write() {
    let path = c"/nonexistent/learning-ebpf";
    let argv = [std::ptr::null::<libc::c_char>()];
    // SAFETY: raw syscalls with valid pointers; the process exits at the end.
    unsafe {
        for _ in 0..EXECS {
            libc::syscall(
                libc::SYS_execve,
                path.as_ptr(),
                argv.as_ptr(),
                argv.as_ptr(),
            );
        }
        let mut fd = -1;
        for _ in 0..OPENS {
            fd = libc::syscall(
                libc::SYS_openat,
                libc::AT_FDCWD,
                c"/dev/null".as_ptr(),
                libc::O_WRONLY,
            );
        }
        for _ in 0..WRITES {
            libc::syscall(libc::SYS_write, fd, c"x".as_ptr(), 1usize);
        }
        libc::syscall(libc::SYS_exit_group, 0);
    }
}

#[test]
fn execve_openat_and_write_each_have_a_program_and_share_counter_table() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &["--interval", "1"]);
    let objects = program.objects();
    let links = common::attachments(&objects.links);

    let mut hooks: Vec<String> = links.iter().map(|a| a.hook.to_string()).collect();
    hooks.sort();
    let wanted: Vec<String> = TRACEPOINTS
        .iter()
        .map(|tp| Hook::Tracepoint(tp.to_string()).to_string())
        .collect();
    if hooks != wanted {
        exercise_failed(
            "hello-map's programs on the tracepoints syscalls/sys_enter_execve, \
             syscalls/sys_enter_openat and syscalls/sys_enter_write, once each",
            &describe(&links),
        );
    }

    let user = TestUser::unique();
    let (uid, gid) = (u64::from(user.uid), u64::from(user.gid));
    exec_marked(&unique_comm("shared"), Some(user), execve_openat_write);
    let total = EXECS + OPENS + WRITES;
    wait_for_counts(
        &mut program,
        &format!(
            "UID {uid} counted exactly {total} times: the check's process made {EXECS} execve, \
             {OPENS} openat and {WRITES} write calls as that user"
        ),
        |counts| count_of(counts, uid) == total && count_of(counts, gid) == 0,
        |counts| match count_of(counts, gid) {
            0 => format!("the count for UID {uid} is {}", count_of(counts, uid)),
            n => format!("the count for GID {gid} is {n}, where the UID should be"),
        },
    );

    let programs: BTreeSet<u32> = links.iter().map(|a| a.program_id).collect();
    if programs.len() != TRACEPOINTS.len() {
        exercise_failed(
            "a program of its own for each syscall (the exercise's second part)",
            &format!(
                "{}; it counts all three syscalls, so the first part is done",
                describe(&links)
            ),
        );
    }
    let sharing = map_named(&objects.maps, "counter_table")
        .and_then(|map| programs_per_map(&programs).get(&map).copied())
        .unwrap_or(0);
    if sharing != programs.len() {
        exercise_failed(
            "all three programs counting into counter_table",
            &format!("{sharing} of the attached programs use counter_table"),
        );
    }
    let _ = program.interrupt();
    println!("{}; UID {uid} counted {total} times", describe(&links));
}
