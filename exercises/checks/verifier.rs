//! Pieces shared by chapter 6's checks (each includes this file): run the exercise's program,
//! which loads the reader's object and prints the verifier's log, and read the verdict; and the
//! verdict of the chapter's own variant of the same mistake on this kernel.
#![allow(dead_code)] // each check uses only some of these helpers

use std::process::Command;

use chapter06::verifier_log;

#[path = "answers.rs"]
mod answers;

/// What the verifier made of a program.
pub struct Outcome {
    pub accepted: bool,
    /// (program, log), in the order they were loaded.
    pub logs: Vec<(String, String)>,
}

impl Outcome {
    /// The rejected program and the key line of its log.
    pub fn rejected(&self) -> Option<(&str, String)> {
        if self.accepted {
            return None;
        }
        let (program, log) = self.logs.last()?;
        Some((program, verifier_log::key_line(log, false)))
    }

    pub fn log_of(&self, program: &str) -> Option<&str> {
        self.logs
            .iter()
            .find(|(p, _)| p == program)
            .map(|(_, log)| log.as_str())
    }
}

/// Runs `binary` with `args`. A failure other than the verifier's verdict means the check could
/// not run (the program must build and reach the kernel).
pub fn run(binary: &str, args: &[&str]) -> Outcome {
    let output = Command::new(binary)
        .args(args)
        .output()
        .expect("running the program");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let logs = verifier_log::logs(&stdout);
    let accepted = output.status.success();
    let verdict = stderr.contains(": the verifier rejected ") || stderr.contains(": loaded ");
    if !verdict || logs.is_empty() {
        panic!("the program did not reach the verifier, so nothing could be checked:\n{stderr}");
    }
    Outcome { accepted, logs }
}

/// What the verifier says on this kernel about the chapter's own variant `name`
/// (`hello-verifier --break NAME`), as a key line.
pub fn chapter_verdict(name: &str) -> (String, String) {
    let binary = answers::chapter_binary("chapter06", "hello-verifier");
    let outcome = run(&binary, &["--break", name]);
    let (program, key) = outcome
        .rejected()
        .unwrap_or_else(|| panic!("this kernel accepts chapter 6's variant {name}"));
    (program.to_string(), key)
}
