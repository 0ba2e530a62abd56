//! libbpf prints to stderr by default. Examples capture that log instead: it is shown with
//! `--verbose`, and the verifier's part of it is shown when a load fails (`ebpf_support::main`
//! does both, so an example simply calls `open.load()?`).

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use libbpf_rs::{ErrorKind, PrintLevel};

static VERBOSE: AtomicBool = AtomicBool::new(false);
static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// libbpf's messages already start with "libbpf: ".
fn capture(_level: PrintLevel, message: String) {
    if VERBOSE.load(Ordering::Relaxed) {
        eprint!("{message}");
    } else {
        CAPTURED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message);
    }
}

/// Routes libbpf's log through `capture`. Called by `ebpf_support::main` before anything loads.
///
/// Only warnings and notes: the verifier's log and libbpf's reasons for a failed load are
/// warnings. libbpf's debug lines (hundreds per load) are left unformatted unless `--verbose`
/// asks for them: formatting them at every load showed in the start-up the benchmarks measure.
pub(crate) fn install() {
    libbpf_rs::set_print(Some((PrintLevel::Info, capture)));
}

/// The verifier's explanation of a rejected program, printed after the one-line error.
#[derive(Debug)]
pub struct VerifierLog(String);

impl fmt::Display for VerifierLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "verifier log:")?;
        for line in self.0.lines() {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

/// The error of a failed load: one line of summary, plus the verifier log when there is one.
#[derive(Debug)]
pub struct LoadError {
    summary: String,
    pub(crate) verifier_log: Option<VerifierLog>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

impl std::error::Error for LoadError {}

/// Turns the error of a failed `load()` into one line and the verifier's log, from what
/// libbpf logged meanwhile. Other errors are left alone.
pub(crate) fn explain_load_failure(error: &anyhow::Error) -> Option<LoadError> {
    let libbpf_error = error
        .chain()
        .find_map(|e| e.downcast_ref::<libbpf_rs::Error>())?;
    let captured = std::mem::take(&mut *CAPTURED.lock().unwrap_or_else(|e| e.into_inner()));
    let log = captured.concat();
    if !log.contains("failed to load") && !log.contains("load failed") {
        return None;
    }
    Some(describe_load_failure(libbpf_error, &captured))
}

/// `--verbose`: libbpf's log goes straight to stderr from now on.
pub(crate) fn show_everything() {
    let earlier = std::mem::take(&mut *CAPTURED.lock().unwrap_or_else(|e| e.into_inner()));
    earlier.iter().for_each(|line| eprint!("{line}"));
    VERBOSE.store(true, Ordering::Relaxed);
    libbpf_rs::set_print(Some((PrintLevel::Debug, capture)));
}

fn describe_load_failure(error: &libbpf_rs::Error, captured: &[String]) -> LoadError {
    let log = captured.concat();
    let verifier_log = log
        .split_once("-- BEGIN PROG LOAD LOG --")
        .and_then(|(_, rest)| rest.split_once("-- END PROG LOAD LOG --"))
        .map(|(body, _)| body.trim().to_string())
        .filter(|body| !body.is_empty());
    // libbpf names the failing program first ("libbpf: prog 'hello': BPF program load
    // failed: Invalid argument"), then the skeleton that could not load.
    let failing = log
        .lines()
        .find(|line| line.contains("BPF program load failed"))
        .or_else(|| log.lines().find(|line| line.contains("failed to load")))
        .map(|line| line.trim().trim_start_matches("libbpf: ").to_string());
    let summary = match (error.kind(), failing) {
        (ErrorKind::PermissionDenied, _) if verifier_log.is_none() => {
            "the kernel refused to load the eBPF program (EPERM): it needs CAP_BPF and CAP_PERFMON, \
             or this program type is not allowed on this kernel"
                .to_string()
        }
        (_, Some(line)) => format!("the kernel rejected the eBPF program: {line}"),
        (_, None) => format!("loading the eBPF program failed: {error}"),
    };
    LoadError {
        summary,
        verifier_log: verifier_log.map(VerifierLog),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What libbpf 1.7 logged when the verifier rejected a program.
    const REJECTED: &[&str] = &[
        "libbpf: prog 'hello': BPF program load failed: Permission denied\n",
        "libbpf: prog 'hello': -- BEGIN PROG LOAD LOG --\n0: R1=ctx() R10=fp0\n; return *(int *)0;\n",
        "0: (b7) r1 = 0\ninvalid mem access 'scalar'\nprocessed 2 insns\n-- END PROG LOAD LOG --\n",
        "libbpf: prog 'hello': failed to load: -13\n",
        "libbpf: failed to load object 'hello_bpf'\n",
        "libbpf: failed to load BPF skeleton 'hello_bpf': -EACCES\n",
    ];

    #[test]
    fn names_the_program_and_keeps_the_verifier_log() {
        let captured: Vec<String> = REJECTED.iter().map(|s| s.to_string()).collect();
        let error = libbpf_rs::Error::from(std::io::Error::from_raw_os_error(libc::EACCES));
        let failure = describe_load_failure(&error, &captured);
        assert_eq!(
            failure.to_string(),
            "the kernel rejected the eBPF program: prog 'hello': BPF program load failed: Permission denied"
        );
        let log = failure.verifier_log.expect("verifier log").to_string();
        assert!(
            log.starts_with("verifier log:\n  0: R1=ctx() R10=fp0"),
            "{log}"
        );
        assert!(log.contains("  invalid mem access 'scalar'"), "{log}");
    }

    #[test]
    fn eperm_without_a_log_is_about_privileges() {
        let captured = vec![
            "libbpf: prog 'hello': BPF program load failed: Operation not permitted\n".to_string(),
        ];
        let error = libbpf_rs::Error::from(std::io::Error::from_raw_os_error(libc::EPERM));
        assert!(
            describe_load_failure(&error, &captured)
                .to_string()
                .contains("(EPERM)")
        );
    }
}
