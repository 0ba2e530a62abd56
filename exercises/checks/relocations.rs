//! The CO-RE relocations in libbpf's log (`--verbose`), for the chapter 5 checks.
#![allow(dead_code)] // each check uses only some of these

use std::process::Command;

/// One relocation that libbpf applied to an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relocation {
    /// The field, as the program's BTF names it: `pt_regs.di`, `pt_regs___other.di`.
    pub field: String,
    pub insn: u32,
    /// The offset compiled into the instruction, and the one libbpf wrote for this kernel.
    pub from: u64,
    pub to: u64,
}

/// The relocations of program `prog` in a libbpf log, in order, e.g. from
/// `prog 'hello': relo #0: <byte_off> [7] struct pt_regs.di (0:14 @ offset 112)` and
/// `prog 'hello': relo #0: patched insn #3 (ALU/ALU64) imm 112 -> 112` (`off` for a load).
pub fn relocations(log: &str, prog: &str) -> Vec<Relocation> {
    let marker = format!("prog '{prog}': relo #");
    let mut fields: Vec<(u32, String)> = Vec::new();
    let mut found = Vec::new();
    for line in log.lines() {
        let Some((_, rest)) = line.split_once(&marker) else {
            continue;
        };
        let Some((number, rest)) = rest.split_once(": ") else {
            continue;
        };
        let Ok(number) = number.parse::<u32>() else {
            continue;
        };
        if rest.starts_with('<') {
            // `<byte_off> [7] struct pt_regs.di (0:14 @ offset 112)`: the field is the word
            // after the kind (struct or union).
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let Some(field) = words.get(3) {
                fields.retain(|(n, _)| *n != number);
                fields.push((number, field.to_string()));
            }
        } else if let Some(patched) = rest.strip_prefix("patched insn #") {
            // `3 (ALU/ALU64) imm 112 -> 112`: an offset added to a pointer (for a direct
            // load, `(LDX/ST/STX) off 112 -> 112`)
            let words: Vec<&str> = patched.split_whitespace().collect();
            let (Some(insn), Some(from), Some(to)) = (
                words.first().and_then(|w| w.parse().ok()),
                words
                    .iter()
                    .position(|w| *w == "off" || *w == "imm")
                    .and_then(|i| words.get(i + 1)?.parse().ok()),
                words
                    .iter()
                    .position(|w| *w == "->")
                    .and_then(|i| words.get(i + 1)?.parse().ok()),
            ) else {
                continue;
            };
            let field = fields
                .iter()
                .find(|(n, _)| *n == number)
                .map(|(_, f)| f.clone())
                .unwrap_or_default();
            found.push(Relocation {
                field,
                insn,
                from,
                to,
            });
        }
    }
    found
}

/// Runs `program --verbose --trigger --count 1` and returns its one event (stdout) and
/// libbpf's log (stderr).
pub fn verbose_run(program: &str) -> (String, String) {
    let output = Command::new(program)
        .args(["--verbose", "--trigger", "--count", "1", "--timeout", "20"])
        .output()
        .expect("running the program");
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    // A program that does not load is not "not solved": the check could not run.
    assert!(
        output.status.success(),
        "the program did not load and run, so nothing could be checked: {log}"
    );
    (String::from_utf8_lossy(&output.stdout).into_owned(), log)
}
