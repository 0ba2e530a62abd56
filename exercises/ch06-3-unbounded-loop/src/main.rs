//! Exercise 3 of Learning eBPF's chapter 6: loads src/bpf/hello-verifier.bpf.c as chapter 6's
//! hello-verifier does, prints the verifier's log and says whether the verifier accepted it.
//! The exercise is in the eBPF program.

use clap::Parser;

/// The object that the build compiled from src/bpf/hello-verifier.bpf.c.
const OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hello_verifier.bpf.o"));

/// Load src/bpf/hello-verifier.bpf.c and print the verifier's log (Learning eBPF, chapter 6, exercise 3).
#[derive(Parser)]
#[command(name = "ch06-3-unbounded-loop")]
struct Args {
    /// Log level 2: every instruction on every path the verifier walked.
    #[arg(long, short)]
    verbose: bool,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter06::HELLO_VERIFIER, |args: Args| {
        chapter06::loader::verify(OBJECT, args.verbose)
    })
}
