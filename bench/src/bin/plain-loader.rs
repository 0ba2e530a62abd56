//! The plainest libbpf-rs loader of chapter 2's hello-ring-buffer object, step for step what
//! `c/c-loader.c` does: the anchor between the C loader and the chapter's example, which adds
//! its checks, its messages and its choice of hook.
//!
//!   bench-plain-loader          load, attach, open the ring buffer, exit
//!   bench-plain-loader --noop   exit at once: what starting the process costs

use libbpf_rs::{MapCore, ObjectBuilder, ProgramType, RingBufferBuilder, TracepointCategory};

const OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hello-ring-buffer.bpf.o"));

fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--noop") {
        return std::process::ExitCode::SUCCESS;
    }
    match load_and_attach() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-plain-loader: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn load_and_attach() -> anyhow::Result<()> {
    let mut open = ObjectBuilder::default().open_memory(OBJECT)?;
    let kprobes = std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists();
    if !kprobes {
        let mut program = open
            .progs_mut()
            .find(|p| p.name() == "hello")
            .ok_or_else(|| anyhow::anyhow!("no program hello"))?;
        program.set_prog_type(ProgramType::Tracepoint);
    }
    let object = open.load()?;
    let program = object
        .progs_mut()
        .find(|p| p.name() == "hello")
        .ok_or_else(|| anyhow::anyhow!("no program hello"))?;
    let _link = if kprobes {
        program.attach_ksyscall(false, "execve")?
    } else {
        program.attach_tracepoint(TracepointCategory::Syscalls, "sys_enter_execve")?
    };
    eprintln!("bench-plain-loader: attached");
    let output = object
        .maps()
        .find(|m| m.name() == "output")
        .ok_or_else(|| anyhow::anyhow!("no map output"))?;
    let mut builder = RingBufferBuilder::new();
    builder.add(&output, |_: &[u8]| 0)?;
    let _ring = builder.build()?;
    Ok(())
}
