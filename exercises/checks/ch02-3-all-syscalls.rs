//! Check for exercise 2.3: every syscall is counted per user ID.

use ebpf_support::testing::{self, exec_marked, unique_comm};

#[path = "common.rs"]
mod common;
use common::{NOBODY, count_of, wait_for_counts};

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch02-3-all-syscalls");
const CALLS: u64 = 200;

/// Runs in the child between fork and exec, as the user nobody.
fn many_syscalls() {
    for _ in 0..CALLS {
        // SAFETY: getppid has no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
}

#[test]
fn every_syscall_of_a_user_is_counted() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &["--interval", "1"]);
    exec_marked(&unique_comm("allsys"), Some(NOBODY), many_syscalls);
    let counts = wait_for_counts(
        &mut program,
        &format!(
            "UID {NOBODY} counted at least {CALLS} times: the check's process made {CALLS} getppid calls as that user"
        ),
        |counts| count_of(counts, NOBODY.into()) >= CALLS,
    );
    let _ = program.interrupt();
    println!(
        "UID {NOBODY} made {} syscalls",
        count_of(&counts, NOBODY.into())
    );
}
