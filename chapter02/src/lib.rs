//! Chapter 2 of Learning eBPF: eBPF's "Hello World". Each example's description (where the
//! book attaches it, the stand-ins, what it needs), and the few user-space pieces that more
//! than one example, exercise or test uses.

pub mod counts;
pub mod syscalls;

use ebpf_support::needs::{Capability as C, Example, Hook, HookKind};

/// The book's kprobe on execve and, for a kernel without kprobes, the tracepoint that fires
/// at the same moment.
const EXECVE: Hook = Hook::Ksyscall("execve");
const EXECVE_TRACEPOINT: &[Hook] = &[Hook::Tracepoint("syscalls", "sys_enter_execve")];

pub const HELLO: Example = Example {
    package: "chapter02",
    name: "hello",
    needs: &[C::Btf, C::Tracefs],
    hook: EXECVE,
    fallbacks: EXECVE_TRACEPOINT,
};

pub const HELLO_MAP: Example = Example {
    package: "chapter02",
    name: "hello-map",
    needs: &[C::Btf],
    hook: EXECVE,
    fallbacks: EXECVE_TRACEPOINT,
};

pub const HELLO_BUFFER: Example = Example {
    package: "chapter02",
    name: "hello-buffer",
    needs: &[C::Btf],
    hook: EXECVE,
    fallbacks: EXECVE_TRACEPOINT,
};

pub const HELLO_RING_BUFFER: Example = Example {
    package: "chapter02",
    name: "hello-ring-buffer",
    needs: &[C::Btf, C::RingBuffer],
    hook: EXECVE,
    fallbacks: EXECVE_TRACEPOINT,
};

pub const HELLO_TAIL: Example = Example {
    package: "chapter02",
    name: "hello-tail",
    needs: &[C::Btf, C::Tracefs],
    hook: Hook::RawTracepoint("sys_enter"),
    fallbacks: &[],
};

pub const HELLO_FILE: Example = Example {
    package: "chapter02",
    name: "hello-file",
    needs: &[C::Btf, C::Tracefs],
    hook: Hook::Tracepoint("syscalls", "sys_enter_openat"),
    fallbacks: &[],
};

pub const HELLO_FILE_RING_BUFFER: Example = Example {
    package: "chapter02",
    name: "hello-file-ring-buffer",
    needs: &[C::Btf, C::Tracefs, C::RingBuffer],
    hook: Hook::Tracepoint("syscalls", "sys_enter_openat"),
    fallbacks: &[],
};

/// This chapter's examples (the doctor and the compatibility table read them).
pub const EXAMPLES: &[Example] = &[
    HELLO,
    HELLO_MAP,
    HELLO_BUFFER,
    HELLO_RING_BUFFER,
    HELLO_TAIL,
    HELLO_FILE,
    HELLO_FILE_RING_BUFFER,
];

/// The options of every example that hooks execve: `--attach`, `--trigger`, `--count`,
/// `--timeout`, `--verbose`.
#[derive(Clone, Debug, clap::Args)]
pub struct ExecveArgs {
    /// Force a hook: `kprobe` (the book's) or `tracepoint` (its stand-in where a kernel has no
    /// kprobes). By default the book's, where this kernel has it.
    #[arg(long, value_enum, value_name = "HOOK")]
    pub attach: Option<HookKind>,
    #[command(flatten)]
    pub trigger: ebpf_support::ExecTrigger,
    #[command(flatten)]
    pub run: ebpf_support::RunArgs,
}
