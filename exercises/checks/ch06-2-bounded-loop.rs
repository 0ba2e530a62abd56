//! Check for exercise 6.2: the reader's xdp_hello has a loop that the verifier accepts and
//! follows ten times, and answer.txt names the register that holds the loop's counter, which the
//! check finds in the verifier's own log (level 2).

use ebpf_support::testing::{self, exercise_failed};

#[path = "verifier.rs"]
mod verifier;

const BINARY: &str = env!("CARGO_BIN_EXE_ch06-2-bounded-loop");
const ANSWER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/answer.txt");

/// An instruction line of the log: its index and its text after the opcode.
fn instruction(line: &str) -> Option<(i64, &str)> {
    let (index, rest) = line.split_once(": (")?;
    let index = index.parse().ok()?;
    let text = rest.split_once(") ")?.1;
    Some((index, text.split(" ; ").next().unwrap_or(text).trim()))
}

#[test]
fn the_loop_is_followed_and_its_counter_named() {
    testing::require_kernel();
    let outcome = verifier::run(BINARY, &["--verbose"]);
    let wanted = "xdp_hello loads with a loop that the verifier follows 10 times, and answer.txt names its counter";
    if let Some((program, key)) = outcome.rejected() {
        exercise_failed(wanted, &format!("the verifier rejects {program}: {key}"));
    }
    let log = outcome.log_of("xdp_hello").expect("xdp_hello's log");
    let lines: Vec<(i64, &str)> = log.lines().filter_map(instruction).collect();
    // A loop is a jump backwards: `goto pc-11` at 13 goes back to 3.
    let Some((from, to)) = lines.iter().find_map(|&(index, text)| {
        let back: i64 = text.split("goto pc-").nth(1)?.parse().ok()?;
        Some((index, index + 1 - back))
    }) else {
        exercise_failed(
            wanted,
            "xdp_hello has no jump backwards: no loop (did clang unroll it? see the hint)",
        );
    };
    // The counter is what the loop adds 1 to.
    let Some((add, register)) = lines.iter().find_map(|&(index, text)| {
        let register = text.strip_suffix(" += 1")?;
        (to..=from)
            .contains(&index)
            .then(|| (index, register.to_string()))
    }) else {
        exercise_failed(wanted, "the loop in xdp_hello adds 1 to no register");
    };
    let walks = lines.iter().filter(|(index, _)| *index == add).count();
    if walks != 10 {
        exercise_failed(
            wanted,
            &format!("the verifier followed the loop {walks} times"),
        );
    }
    let answer = std::fs::read_to_string(ANSWER).expect("reading answer.txt");
    let named = answer
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|l| l.split_once("register:"))
        .map(|(_, r)| r.trim().to_lowercase());
    if named.as_deref() != Some(register.as_str()) {
        exercise_failed(
            &format!("register: {register} (the verifier followed the loop 10 times)"),
            &format!("register: {}", named.unwrap_or_default()),
        );
    }
    println!("the verifier followed the loop 10 times; {register} counts it");
}
