//! Loading an object with the verifier's log asked for, as the book's loader does with
//! `kernel_log_buf` and `kernel_log_level`. hello-verifier and the chapter's exercises load
//! through here.

use anyhow::{Context, Result};
use libbpf_rs::{AsRawLibbpf, Object, ObjectBuilder, OpenObject};

use crate::verifier_log;

/// The kernel writes each program's log here (`kernel_log_buf` in the book's loader).
pub const LOG_SIZE: usize = 1 << 20;
/// `BPF_LOG_STATS`: only the verdict and the statistics, for a log too long for the buffer.
pub const LOG_STATS: u32 = 4;

/// The outcome of a load, and each program's log, in the object's order.
pub struct Loaded {
    pub object: libbpf_rs::Result<Object>,
    pub logs: Vec<(String, Log)>,
}

/// One program's log, and the level it was asked for.
pub struct Log {
    pub level: u32,
    pub text: String,
}

// ANCHOR: load_with_logs
/// Opens the object, gives each program a buffer for the verifier's log at `level`, and loads
/// it. A log that fills the buffer (a million instructions make a long log) is cut short by the
/// kernel, so the object is loaded again with only the statistics asked for.
pub fn load_with_logs(
    bytes: &[u8],
    level: u32,
    mut prepare: impl FnMut(&mut OpenObject) -> Result<()>,
) -> Result<Loaded> {
    let mut level = level;
    loop {
        let mut open = ObjectBuilder::default()
            .open_memory(bytes)
            .context("opening the object")?;
        prepare(&mut open)?;
        let mut buffers = Vec::new();
        for mut program in open.progs_mut() {
            let mut buffer = vec![0u8; LOG_SIZE];
            // SAFETY: libbpf writes at most LOG_SIZE bytes there during load(), and the
            // buffer is kept (in `buffers`) until after load() returns.
            unsafe {
                libbpf_rs::libbpf_sys::bpf_program__set_log_buf(
                    program.as_libbpf_object().as_ptr(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len() as _,
                )
            };
            program.set_log_level(level);
            buffers.push((program.name().to_string_lossy().into_owned(), buffer));
        }
        let loaded = open.load();
        let logs: Vec<(String, Log)> = buffers
            .into_iter()
            .map(|(name, buffer)| {
                let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
                let text = String::from_utf8_lossy(&buffer[..end]).into_owned();
                (name, Log { level, text })
            })
            .collect();
        let full = logs.iter().any(|(_, log)| log.text.len() >= LOG_SIZE - 1);
        if !full || level == LOG_STATS {
            return Ok(Loaded {
                object: loaded,
                logs,
            });
        }
        eprintln!(
            "{}: the verifier's log is longer than {} MiB; loading again with log level {LOG_STATS} (the verdict and statistics only)",
            ebpf_support::program_name(),
            LOG_SIZE >> 20
        );
        level = LOG_STATS;
    }
}
// ANCHOR_END: load_with_logs

impl Loaded {
    /// Prints each program's log under its heading, as hello-verifier's output shows them.
    pub fn print_logs(&self) {
        for (program, log) in self.logs.iter().filter(|(_, log)| !log.text.is_empty()) {
            println!("{}", verifier_log::heading(program, log.level));
            print!("{}", log.text);
        }
    }

    /// The program the verifier rejected (the last one with a log: libbpf stops at the first
    /// failure) and what it said.
    pub fn rejected(&self) -> Option<(&str, String)> {
        let (program, log) = self.logs.iter().rev().find(|(_, l)| !l.text.is_empty())?;
        Some((program, verifier_log::verdict_lines(&log.text).join(" / ")))
    }
}

/// What the exercises run: loads `bytes` as the object's own program types (no attach), prints
/// the logs and, when the verifier rejects a program, fails with one line that says what it said.
pub fn verify(bytes: &[u8], verbose: bool) -> Result<()> {
    let loaded = load_with_logs(bytes, if verbose { 2 } else { 1 }, |_| Ok(()))?;
    loaded.print_logs();
    match (&loaded.object, loaded.rejected()) {
        (Ok(object), _) => {
            let names: Vec<String> = object
                .progs()
                .map(|p| p.name().to_string_lossy().into_owned())
                .collect();
            eprintln!(
                "{}: loaded {}",
                ebpf_support::program_name(),
                names.join(" and ")
            );
            Ok(())
        }
        (Err(_), Some((program, what))) => {
            anyhow::bail!("the verifier rejected {program}: {what}")
        }
        (Err(error), None) => Err(anyhow::anyhow!("{error}")).context("loading the programs"),
    }
}
