//! Learning eBPF, chapter 3, “BPF to BPF Calls” (hello-func.bpf.c): a raw tracepoint program
//! that calls a function of its own to get the syscall's number.

use std::mem::MaybeUninit;
use std::os::fd::AsFd;

use clap::Parser;
use ebpf_support::needs::Hook;
use ebpf_support::{Run, RunArgs, TraceLine, TracePipe};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

ebpf_support::skeleton!(hello_func);
use hello_func::HelloFuncSkelBuilder;

/// Print "Syscall: N" for every system call on the machine (Learning eBPF, chapter 3, “BPF to BPF Calls”, hello-func.bpf.c).
///
/// Attaches the raw tracepoint program `hello` to sys_enter; it gets the syscall's number from
/// its own function get_opcode (a BPF-to-BPF call) and writes it to the trace pipe, which this
/// prints, except the lines of its own syscalls. Every syscall of every other process fires
/// it: expect a flood. While it runs, look at the
/// call with `inspect --name hello` or `bpftool prog dump xlated name hello`.
#[derive(Parser)]
#[command(name = "hello-func")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter03::HELLO_FUNC, |args: Args| {
        let mut trace_pipe = TracePipe::open()?;
        // ANCHOR: load_attach
        let mut object = MaybeUninit::uninit();
        let skel = HelloFuncSkelBuilder::default().open(&mut object)?.load()?;
        // The book loads it with `bpftool prog load`; attaching is this: a raw tracepoint link.
        let hook = Hook::RawTracepoint("sys_enter");
        let _link = ebpf_support::attach_to(hook, &skel.progs.hello)?;
        // ANCHOR_END: load_attach
        // The id the kernel gave it, as `bpftool prog show` lists it (and `inspect --id` takes).
        let id = libbpf_rs::Program::id_from_fd(skel.progs.hello.as_fd())?;
        eprintln!(
            "hello-func: attached to {hook} (program id {id}); reading trace_pipe, Ctrl-C to stop"
        );
        // ANCHOR: own_lines
        // Every line printed is a write syscall, which fires the program again: printing our
        // own lines would feed back into an endless flood, so leave them out.
        let run = Run::new(&args.run);
        let me = std::process::id();
        while let Some(line) = trace_pipe.next_line(&run)? {
            if TraceLine::parse(&line).is_some_and(|l| l.pid == me) {
                continue;
            }
            println!("{line}");
            run.record();
        }
        Ok(())
        // ANCHOR_END: own_lines
    })
}
