//! Check for exercise 2.5: counter_table is keyed by syscall number, machine-wide.

use ebpf_support::testing::{self, TestUser, exec_marked, unique_comm};

#[path = "common.rs"]
mod common;
use common::{count_of, wait_for_counts};

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch02-5-syscall-counts");

const GETPPID_CALLS: u64 = 50;
const GETPID_CALLS: u64 = 30;

/// Runs in the child between fork and exec, as the test user.
fn getppid_and_getpid() {
    // SAFETY: syscalls without arguments; the process exits at the end.
    unsafe {
        for _ in 0..GETPPID_CALLS {
            libc::syscall(libc::SYS_getppid);
        }
        for _ in 0..GETPID_CALLS {
            libc::syscall(libc::SYS_getpid);
        }
        libc::syscall(libc::SYS_exit_group, 0);
    }
}

#[test]
fn counts_are_keyed_by_syscall_number() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &["--interval", "1"]);
    let user = TestUser::unique();
    let uid = u64::from(user.uid);
    exec_marked(&unique_comm("bysys"), Some(user), getppid_and_getpid);

    // Other processes make these syscalls too, so the counts are at least the check's own.
    let (getppid, getpid) = (libc::SYS_getppid as u64, libc::SYS_getpid as u64);
    let counts = wait_for_counts(
        &mut program,
        &format!(
            "at least {GETPPID_CALLS} under key {getppid} (getppid on this architecture) and \
             {GETPID_CALLS} under key {getpid} (getpid), which the check's process called as \
             UID {uid}; no key {uid}"
        ),
        |counts| {
            count_of(counts, getppid) >= GETPPID_CALLS
                && count_of(counts, getpid) >= GETPID_CALLS
                && count_of(counts, uid) == 0
        },
        |counts| {
            let under_uid = match count_of(counts, uid) {
                0 => String::new(),
                n => format!(", key {uid} (the test user's UID): {n}"),
            };
            let entries = match counts.len() {
                1 => "1 entry".to_string(),
                n => format!("{n} entries"),
            };
            format!(
                "key {getppid}: {}, key {getpid}: {}{under_uid}; {entries} in all",
                count_of(counts, getppid),
                count_of(counts, getpid),
            )
        },
    );
    let _ = program.interrupt();
    println!(
        "getppid ({getppid}) was called {} times, getpid ({getpid}) {} times",
        count_of(&counts, getppid),
        count_of(&counts, getpid)
    );
}
