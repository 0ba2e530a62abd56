//! Check for exercise 2.2: separate programs on execve, openat and write count into one map.

use ebpf_support::testing::{self, exec_marked, exercise_failed, programs_per_map, unique_comm};

#[path = "common.rs"]
mod common;
use common::{NOBODY, count_of, wait_for_counts};

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch02-2-shared-map");
const OPENS: u64 = 5;
const WRITES: u64 = 5;

/// Runs in the child between fork and exec, as the user nobody.
fn open_and_write() {
    // SAFETY: raw syscalls on a file descriptor this function opens and closes.
    unsafe {
        for _ in 0..OPENS {
            let fd = libc::openat(libc::AT_FDCWD, c"/dev/null".as_ptr(), libc::O_WRONLY);
            if fd >= 0 {
                libc::close(fd);
            }
        }
        let fd = libc::openat(libc::AT_FDCWD, c"/dev/null".as_ptr(), libc::O_WRONLY);
        for _ in 0..WRITES {
            libc::write(fd, c"x".as_ptr().cast(), 1);
        }
        libc::close(fd);
    }
}

#[test]
fn execve_openat_and_write_programs_share_counter_table() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &["--interval", "1"]);

    let objects = program.objects();
    let counter_table = testing::map_named(&objects.maps, "counter_table");
    let users = counter_table.map_or(0, |id| {
        programs_per_map(&objects.progs)
            .get(&id)
            .copied()
            .unwrap_or(0)
    });
    if users < 3 {
        exercise_failed(
            "three programs (on execve, openat and write) that all use counter_table",
            &format!(
                "{} program(s) loaded, {users} of them using counter_table",
                objects.progs.len()
            ),
        );
    }

    exec_marked(&unique_comm("shared"), Some(NOBODY), open_and_write);
    // One more openat than OPENS (the file the writes go to), and the execve itself.
    let wanted = OPENS + 1 + WRITES + 1;
    let counts = wait_for_counts(
        &mut program,
        &format!(
            "UID {NOBODY} counted at least {wanted} times ({} openat, {WRITES} write, 1 execve)",
            OPENS + 1
        ),
        |counts| count_of(counts, NOBODY.into()) >= wanted,
    );
    let _ = program.interrupt();
    println!(
        "UID {NOBODY} was counted {} times",
        count_of(&counts, NOBODY.into())
    );
}
