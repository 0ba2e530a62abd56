//! Check for exercise 2.1: an even process ID gets a message that says "even", an odd one a
//! message that says "odd".

use std::time::Duration;

use ebpf_support::testing::{self, TestUser, exec_marked, exercise_failed, unique_comm};

#[path = "common.rs"]
mod common;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch02-1-odd-even");

const PARITY: [&str; 2] = ["even", "odd"];

#[test]
fn odd_and_even_pids_get_messages_that_say_so() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &[]);
    let user = TestUser::unique();

    // [even, odd]: (pid, message) for processes the check starts itself, until it has two of
    // each (PIDs are handed out in turn, so a few execs are enough).
    let mut by_parity: [Vec<(u32, String)>; 2] = Default::default();
    for _ in 0..40 {
        if by_parity.iter().all(|seen| seen.len() >= 2) {
            break;
        }
        let comm = unique_comm("parity");
        let pid = exec_marked(&comm, Some(user), || {});
        let prefix = format!("{pid} {} {comm} ", user.uid);
        match program.wait_for_line(Duration::from_secs(10), |line| line.starts_with(&prefix)) {
            Ok(line) => by_parity[(pid % 2) as usize].push((pid, line[prefix.len()..].to_string())),
            Err(seen) => exercise_failed(
                &format!(
                    "a line `{prefix}MESSAGE` for the exec of pid {pid} as UID {}",
                    user.uid
                ),
                &format!("printed {seen:?}"),
            ),
        }
    }
    let _ = program.interrupt();
    assert!(
        by_parity.iter().all(|seen| !seen.is_empty()),
        "the check could not start processes with both odd and even PIDs: {by_parity:?}"
    );

    for (parity, seen) in by_parity.iter().enumerate() {
        let (this, other) = (PARITY[parity], PARITY[1 - parity]);
        for (pid, message) in seen {
            let words = message.to_lowercase();
            if !words.contains(this) || words.contains(other) {
                exercise_failed(
                    &format!("a message that says `{this}` (and not `{other}`) for an {this} PID"),
                    &format!("pid {pid} ({this}) got {message:?}"),
                );
            }
        }
        let (pid, message) = &seen[0];
        if let Some((other_pid, other_message)) = seen.iter().find(|(_, m)| m != message) {
            exercise_failed(
                &format!("one message for every {this} PID"),
                &format!("pid {pid} got {message:?}, pid {other_pid} got {other_message:?}"),
            );
        }
    }
    println!(
        "even PIDs say {:?}, odd PIDs say {:?}",
        by_parity[0][0].1, by_parity[1][0].1
    );
}
