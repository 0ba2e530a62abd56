//! Check for exercise 8.3: the READ lines show what openssl s_client read over TLS, the server's
//! answer in plain text, with the number of bytes SSL_read returned. The check sends a line of
//! its own, and the server answers it reversed.

use std::time::Duration;

use ebpf_support::testing::{self, exercise_failed};

#[path = "common.rs"]
mod common;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch08-3-sslsniff");

#[test]
fn ssl_read_shows_the_plaintext_that_was_read() {
    testing::require_kernel();
    let message = format!("check {} over TLS", std::process::id());
    let reversed: String = message.chars().rev().collect();
    let mut program = common::start(PROGRAM, &["--message", &message]);
    let len = message.len() + 1;
    let write = format!(" len {len}: \"{message}\\n\"");
    let read = format!(" len {len}: \"{reversed}\\n\"");
    let mut reads = Vec::new();
    let mut saw_write = false;
    // The client sends the line once a second: a few rounds are enough.
    let result = program.wait_for_line(Duration::from_secs(5), |l| {
        saw_write |= l.starts_with("WRITE openssl ") && l.ends_with(&write);
        if l.starts_with("READ ") {
            reads.push(l.chars().take(100).collect::<String>());
        }
        l.starts_with("READ openssl ") && l.ends_with(&read)
    });
    match (result, saw_write) {
        (Ok(line), _) => println!("{line}"),
        (Err(seen), false) => panic!(
            "the SSL_write capture printed no WRITE line for {message:?}, so nothing could be checked; it printed {seen:#?}"
        ),
        (Err(_), true) => exercise_failed(
            &format!(
                "a line `READ openssl PID{read}`: the server's answer, as SSL_read returned it"
            ),
            &if reads.is_empty() {
                "no READ line within 5 s".to_string()
            } else {
                format!("within 5 s only these READ lines: {reads:#?}")
            },
        ),
    }
}
