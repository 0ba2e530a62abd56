//! Check for exercise 2.5: counts are keyed by syscall number, system-wide.

use ebpf_support::testing::{self, exec_marked, unique_comm};

#[path = "common.rs"]
mod common;
use common::{NOBODY, count_of, wait_for_counts};

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch02-5-syscall-counts");
const CALLS: u64 = 300;

/// Runs in the child between fork and exec, as the user nobody.
fn many_getppid_calls() {
    for _ in 0..CALLS {
        // SAFETY: getppid has no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
}

#[test]
fn counts_are_keyed_by_syscall_number() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &["--interval", "1"]);
    exec_marked(&unique_comm("bysys"), Some(NOBODY), many_getppid_calls);
    let getppid = libc::SYS_getppid as u64;
    // A count under UID nobody's number would mean the map is still keyed by user.
    let counts = wait_for_counts(
        &mut program,
        &format!(
            "at least {CALLS} calls under key {getppid} (getppid on this architecture), and no key {NOBODY} \
             (the user the calls were made as)"
        ),
        |counts| count_of(counts, getppid) >= CALLS && count_of(counts, NOBODY.into()) == 0,
    );
    let _ = program.interrupt();
    println!(
        "getppid ({getppid}) was called {} times",
        count_of(&counts, getppid)
    );
}
