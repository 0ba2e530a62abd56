//! Check for exercise 2.3: hello-map runs on the sys_enter raw tracepoint and so counts every
//! syscall of a user.

use ebpf_support::testing::{self, TestUser, exec_marked, exercise_failed, unique_comm};

#[path = "common.rs"]
mod common;
use common::{Hook, count_of, describe, wait_for_counts};

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch02-3-all-syscalls");

const GETPPID: u64 = 3;
const GETPID: u64 = 5;
const GETTID: u64 = 7;
const UNAME: u64 = 11;
/// Every syscall the test user makes, the exit_group that ends it included.
const TOTAL: u64 = GETPPID + GETPID + GETTID + UNAME + 1;

/// Runs in the child between fork and exec, as the test user: a mix of syscalls, then
/// exit_group, so that nothing else runs as that user.
fn a_mix_of_syscalls() {
    // SAFETY: raw syscalls with valid arguments; the process exits at the end.
    unsafe {
        for _ in 0..GETPPID {
            libc::syscall(libc::SYS_getppid);
        }
        for _ in 0..GETPID {
            libc::syscall(libc::SYS_getpid);
        }
        for _ in 0..GETTID {
            libc::syscall(libc::SYS_gettid);
        }
        let mut name: libc::utsname = std::mem::zeroed();
        for _ in 0..UNAME {
            libc::syscall(libc::SYS_uname, &mut name);
        }
        libc::syscall(libc::SYS_exit_group, 0);
    }
}

#[test]
fn every_syscall_of_a_user_is_counted() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &["--interval", "1"]);
    let links = common::attachments(&program.objects().links);
    if !matches!(&links[..], [only] if only.hook == Hook::RawTracepoint("sys_enter".into())) {
        exercise_failed(
            "one link: hello on the raw tracepoint sys_enter",
            &describe(&links),
        );
    }

    let user = TestUser::unique();
    let (uid, gid) = (u64::from(user.uid), u64::from(user.gid));
    exec_marked(&unique_comm("allsys"), Some(user), a_mix_of_syscalls);
    wait_for_counts(
        &mut program,
        &format!(
            "UID {uid} counted exactly {TOTAL} times: the check's process made {GETPPID} getppid, \
             {GETPID} getpid, {GETTID} gettid, {UNAME} uname and 1 exit_group calls as that user"
        ),
        |counts| count_of(counts, uid) == TOTAL && count_of(counts, gid) == 0,
        |counts| match count_of(counts, gid) {
            0 => format!("the count for UID {uid} is {}", count_of(counts, uid)),
            n => format!("the count for GID {gid} is {n}, where the UID should be"),
        },
    );
    let _ = program.interrupt();
    println!("{}; UID {uid} counted {TOTAL} syscalls", describe(&links));
}
