//! Reading a verifier log: which line says what went wrong, in words that stay the same from
//! one build to the next, and hello-verifier's output, one log per program.

/// hello-verifier prints each program's log under this line.
pub fn heading(program: &str, level: u32) -> String {
    format!("verifier log of {program} (level {level}):")
}

/// The logs in hello-verifier's output: (program, log) in the order they were printed.
pub fn logs(output: &str) -> Vec<(String, String)> {
    let mut logs: Vec<(String, String)> = Vec::new();
    for line in output.lines() {
        let program = line
            .strip_prefix("verifier log of ")
            .and_then(|rest| rest.split_once(" (level "))
            .filter(|(_, end)| end.ends_with("):"))
            .map(|(program, _)| program.to_string());
        match (program, logs.last_mut()) {
            (Some(program), _) => logs.push((program, String::new())),
            (None, Some((_, log))) => {
                log.push_str(line);
                log.push('\n');
            }
            (None, None) => {}
        }
    }
    logs
}

/// An instruction as the log prints it: `27: (85) call bpf_map_lookup_elem#1`.
fn is_instruction(line: &str) -> bool {
    let Some((index, rest)) = line.split_once(": (") else {
        return false;
    };
    !index.is_empty() && index.chars().all(|c| c.is_ascii_digit()) && rest.len() > 3
}

/// Lines that describe the run rather than the verdict.
fn is_statistics(line: &str) -> bool {
    [
        "processed ",
        "verification time",
        "stack depth",
        "max_states_per_insn",
        "mark_precise",
        "Live regs",
        "peak_states",
    ]
    .iter()
    .any(|start| line.starts_with(start))
}

/// The summary of a run: `processed 61 insns (limit 1000000) max_states_per_insn 0 …`.
pub fn summary(log: &str) -> Option<&str> {
    log.lines().rev().find(|l| l.starts_with("processed "))
}

/// What the verifier said about the program: the lines after the last instruction it looked
/// at, without the statistics (for a program it accepted, the summary instead).
pub fn verdict_lines(log: &str) -> Vec<&str> {
    let lines: Vec<&str> = log.lines().map(str::trim_end).collect();
    let after = lines
        .iter()
        .rposition(|l| is_instruction(l))
        .map_or(0, |i| i + 1);
    lines[after..]
        .iter()
        .copied()
        .filter(|l| {
            !l.is_empty() && !is_statistics(l) && !l.starts_with("; ") && !is_register_state(l)
        })
        .collect()
}

/// A dump of the registers' state, which older kernels (5.10) print on a line of its own
/// before the error: `R0_w=inv(id=0) R1_w=… R10=fp0 fp-8=mmmmmmmm`.
fn is_register_state(line: &str) -> bool {
    // An error may start with a register too (`R2 max value is outside …`), but never with an
    // assignment to one.
    let first = line.split_whitespace().next().unwrap_or_default();
    first.split_once('=').is_some_and(|(name, _)| {
        name.strip_prefix('R').is_some_and(|number| {
            let number = number.trim_end_matches("_w");
            !number.is_empty() && number.chars().all(|c| c.is_ascii_digit())
        })
    })
}

/// Makes a line comparable across builds and kernels: the registers that the compiler picks
/// for a value it keeps (R6 to R9, the callee-saved ones) become `Rn`; R0 (the return value)
/// and R1 to R5 (a helper's arguments) keep their meaning and their number.
pub fn normalise(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find('R') {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let starts_word = !out.ends_with(|c: char| c.is_ascii_alphanumeric());
        let next = from.as_bytes();
        let callee_saved = starts_word
            && matches!(next.get(1), Some(b'6'..=b'9'))
            && !next.get(2).is_some_and(u8::is_ascii_alphanumeric);
        let taken = if callee_saved { 2 } else { 1 };
        out.push_str(if callee_saved { "Rn" } else { "R" });
        rest = &from[taken..];
    }
    out.push_str(rest);
    out
}

/// The key line of a log: the verdict lines, normalised, joined with ` / `; for an accepted
/// program, its summary.
pub fn key_line(log: &str, accepted: bool) -> String {
    if accepted {
        return summary(log).unwrap_or("(no summary)").trim().to_string();
    }
    let lines = verdict_lines(log);
    if lines.is_empty() {
        return "(empty log)".into();
    }
    lines
        .iter()
        .map(|l| normalise(l.trim()))
        .collect::<Vec<_>>()
        .join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NULL_CHECK: &str = "func#0 @0\n0: R1=ctx() R10=fp0\n; p = bpf_map_lookup_elem(&my_config, &uid); @ hello-verifier.bpf.c:55\n27: (85) call bpf_map_lookup_elem#1\t; R0_w=map_value_or_null(id=1,ks=4,vs=12)\n28: (bf) r8 = r0\n29: (71) r3 = *(u8 *)(r8 +0)\nR8 invalid mem access 'map_value_or_null'\nprocessed 29 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 0\n";

    #[test]
    fn the_verdict_is_what_follows_the_last_instruction() {
        assert_eq!(
            verdict_lines(NULL_CHECK),
            ["R8 invalid mem access 'map_value_or_null'"]
        );
        assert_eq!(
            key_line(NULL_CHECK, false),
            "Rn invalid mem access 'map_value_or_null'"
        );
        assert_eq!(
            key_line(NULL_CHECK, true),
            "processed 29 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 0"
        );
    }

    #[test]
    fn a_register_state_dump_is_not_the_verdict() {
        let log = "12: (71) r3 = *(u8 *)(r2 +0)\nR0_w=inv(id=0) R2_w=map_value(id=0,off=4,ks=4,vs=16,umax_value=12,var_off=(0x0; 0xf)) R10=fp0 fp-8=mmmmmmmm fp-32=inv\ninvalid access to map value, value_size=16 off=16 size=1\n";
        assert_eq!(
            verdict_lines(log),
            ["invalid access to map value, value_size=16 off=16 size=1"]
        );
        assert!(!is_register_state("R0 !read_ok"));
        assert!(!is_register_state(
            "R8 invalid mem access 'map_value_or_null'"
        ));
    }

    #[test]
    fn only_callee_saved_registers_are_normalised() {
        assert_eq!(normalise("R0 !read_ok"), "R0 !read_ok");
        assert_eq!(
            normalise("R1 type=fp expected=map_ptr"),
            "R1 type=fp expected=map_ptr"
        );
        assert_eq!(normalise("R7 invalid mem access"), "Rn invalid mem access");
        assert_eq!(normalise("R10 fp, XDP_PASS R9"), "R10 fp, XDP_PASS Rn");
    }

    #[test]
    fn logs_are_split_by_program() {
        let output = format!(
            "{}\nprocessed 5 insns\n\n{}\n0: (b7) r0 = 0\n",
            heading("kprobe_exec", 1),
            heading("xdp_hello", 2)
        );
        let logs = logs(&output);
        assert_eq!(logs.len(), 2);
        assert_eq!(
            logs[0],
            ("kprobe_exec".into(), "processed 5 insns\n\n".into())
        );
        assert_eq!(logs[1].0, "xdp_hello");
    }
}
