//! Check for exercise 2.1: events for odd and even process IDs carry different messages.

use std::time::Duration;

use ebpf_support::testing::{self, exec_marked, exercise_failed, unique_comm};

#[path = "common.rs"]
mod common;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch02-1-odd-even");

#[test]
fn odd_and_even_pids_get_different_messages() {
    testing::require_kernel();
    let mut program = common::start(PROGRAM, &[]);

    // [even, odd]: (pid, message) for processes the check starts itself.
    let mut by_parity: [Vec<(u32, String)>; 2] = Default::default();
    for _ in 0..40 {
        if by_parity.iter().all(|seen| seen.len() >= 2) {
            break;
        }
        let comm = unique_comm("parity");
        let pid = exec_marked(&comm, None, || {});
        let prefix = format!("{pid} 0 {comm} ");
        match program.wait_for_line(Duration::from_secs(10), |line| line.starts_with(&prefix)) {
            Ok(line) => by_parity[(pid % 2) as usize].push((pid, line[prefix.len()..].to_string())),
            Err(seen) => exercise_failed(
                &format!("a line starting `{prefix}` for that exec"),
                &format!("printed {seen:?}"),
            ),
        }
    }
    let _ = program.interrupt();

    let [even, odd] = &by_parity;
    assert!(
        !even.is_empty() && !odd.is_empty(),
        "the check could not start both odd and even processes"
    );
    for group in [even, odd] {
        if group.iter().any(|(_, message)| *message != group[0].1) {
            exercise_failed(
                "the same message for every PID of one parity",
                &format!("{group:?}"),
            );
        }
    }
    let ((even_pid, even_message), (odd_pid, odd_message)) = (&even[0], &odd[0]);
    if even_message == odd_message {
        exercise_failed(
            "different messages for odd and even PIDs",
            &format!("pid {even_pid} (even) and pid {odd_pid} (odd) both got {even_message:?}"),
        );
    }
    println!("even PIDs say {even_message:?}, odd PIDs say {odd_message:?}");
}
