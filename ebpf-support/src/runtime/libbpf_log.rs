//! libbpf prints to stderr by default. Examples capture that log instead: it is shown with
//! `--verbose`, and the verifier's part of it is shown when a load fails.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use libbpf_rs::OpenObject;
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{ErrorKind, PrintLevel};
use std::mem::MaybeUninit;

use super::cli::RunArgs;

static VERBOSE: AtomicBool = AtomicBool::new(false);
static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn capture(level: PrintLevel, message: String) {
    if VERBOSE.load(Ordering::Relaxed) {
        eprint!("libbpf: {message}");
    } else if !matches!(level, PrintLevel::Debug) {
        CAPTURED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message);
    }
}

/// Routes libbpf's log through `capture`. Called by `ebpf_support::main` before anything loads.
pub(crate) fn install() {
    libbpf_rs::set_print(Some((PrintLevel::Debug, capture)));
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

/// Loads an opened skeleton into the kernel, turning libbpf's failure into a `LoadError`.
pub fn load<'obj, T: OpenSkel<'obj>>(open: T, args: &RunArgs) -> Result<T::Output> {
    VERBOSE.store(args.verbose, Ordering::Relaxed);
    CAPTURED.lock().unwrap_or_else(|e| e.into_inner()).clear();
    open.load().map_err(|error| {
        let captured = std::mem::take(&mut *CAPTURED.lock().unwrap_or_else(|e| e.into_inner()));
        anyhow::Error::new(describe_load_failure(&error, &captured))
    })
}

fn describe_load_failure(error: &libbpf_rs::Error, captured: &[String]) -> LoadError {
    let log = captured.concat();
    let verifier_log = log
        .split_once("-- BEGIN PROG LOAD LOG --")
        .and_then(|(_, rest)| rest.split_once("-- END PROG LOAD LOG --"))
        .map(|(body, _)| body.trim().to_string())
        .filter(|body| !body.is_empty());
    // libbpf names the failing program in a line like "prog 'hello': BPF program load failed: ...".
    let failing = log
        .lines()
        .rev()
        .find(|line| line.contains("load failed") || line.contains("failed to load"))
        .map(|line| line.trim().to_string());
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

/// Opens, loads and auto-attaches a skeleton: every program whose `SEC()` names its hook is
/// attached (the links live in the returned skeleton). For examples with nothing to set
/// between the steps.
pub fn load_and_attach<'obj, B: SkelBuilder<'obj>>(
    builder: B,
    object: &'obj mut MaybeUninit<OpenObject>,
    args: &RunArgs,
) -> Result<<B::Output as OpenSkel<'obj>>::Output> {
    let open = builder.open(object)?;
    let mut skel = load(open, args)?;
    anyhow::Context::context(skel.attach(), "attaching the eBPF programs")?;
    Ok(skel)
}
