//! Chapter 2 of Learning eBPF: eBPF's "Hello World". Each example's description (where the
//! book attaches it, the stand-ins, what it needs), and the few user-space pieces that more
//! than one example, exercise or test uses.

pub mod counts;
pub mod syscalls;

use ebpf_support::needs::{Capability as C, Example, Hook, HookKind, Mutant, Privilege};

/// The book's kprobe on execve and, for a kernel without kprobes, the tracepoint that fires
/// at the same moment.
const EXECVE: Hook = Hook::Ksyscall("execve");
const EXECVE_TRACEPOINT: &[Hook] = &[Hook::Tracepoint("syscalls", "sys_enter_execve")];

pub const HELLO: Example = Example {
    package: "chapter02",
    name: "hello",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::Tracefs],
    hook: EXECVE,
    fallbacks: EXECVE_TRACEPOINT,
    mutants: &[Mutant {
        name: "wrong-message",
        file: "hello.bpf.c",
        from: "bpf_printk(\"Hello World\");",
        to: "bpf_printk(\"Hello World!\");",
    }],
};

pub const HELLO_MAP: Example = Example {
    package: "chapter02",
    name: "hello-map",
    privilege: Privilege::Tracing,
    needs: &[C::Btf],
    hook: EXECVE,
    fallbacks: EXECVE_TRACEPOINT,
    mutants: &[Mutant {
        name: "gid-for-uid",
        file: "hello-map.bpf.c",
        from: "uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;",
        to: "uid = bpf_get_current_uid_gid() >> 32;",
    }],
};

pub const HELLO_BUFFER: Example = Example {
    package: "chapter02",
    name: "hello-buffer",
    privilege: Privilege::Tracing,
    needs: &[C::Btf],
    hook: EXECVE,
    fallbacks: EXECVE_TRACEPOINT,
    mutants: &[Mutant {
        name: "gid-for-uid",
        file: "hello-buffer.bpf.c",
        from: "data.uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;",
        to: "data.uid = bpf_get_current_uid_gid() >> 32;",
    }],
};

pub const HELLO_RING_BUFFER: Example = Example {
    package: "chapter02",
    name: "hello-ring-buffer",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::RingBuffer],
    hook: EXECVE,
    fallbacks: EXECVE_TRACEPOINT,
    mutants: &[Mutant {
        name: "no-command",
        file: "hello-ring-buffer.bpf.c",
        from: "bpf_get_current_comm(&data->command, sizeof(data->command));",
        to: "",
    }],
};

pub const HELLO_TAIL: Example = Example {
    package: "chapter02",
    name: "hello-tail",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::Tracefs],
    hook: Hook::RawTracepoint("sys_enter"),
    fallbacks: &[],
    mutants: &[Mutant {
        name: "no-tail-call",
        file: "hello-tail.bpf.c",
        from: "bpf_tail_call(ctx, &syscall, opcode);",
        to: "",
    }],
};

pub const HELLO_FILE: Example = Example {
    package: "chapter02",
    name: "hello-file",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::Tracefs],
    hook: Hook::Tracepoint("syscalls", "sys_enter_openat"),
    fallbacks: &[],
    mutants: &[Mutant {
        name: "kernel-read-of-a-user-string",
        file: "hello-file.bpf.c",
        from: "bpf_probe_read_user_str(&event.filename",
        to: "bpf_probe_read_kernel_str(&event.filename",
    }],
};

pub const HELLO_FILE_RING_BUFFER: Example = Example {
    package: "chapter02",
    name: "hello-file-ring-buffer",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::Tracefs, C::RingBuffer],
    hook: Hook::Tracepoint("syscalls", "sys_enter_openat"),
    fallbacks: &[],
    mutants: &[Mutant {
        name: "flags-for-dfd",
        file: "hello-file-ring-buffer.bpf.c",
        from: "event->dfd = ctx->args[0];",
        to: "event->dfd = ctx->args[2];",
    }],
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

/// `--attach`'s values for the execve examples: the two hooks they offer.
fn execve_hook(value: &str) -> Result<HookKind, String> {
    match value {
        "kprobe" => Ok(HookKind::Kprobe),
        "tracepoint" => Ok(HookKind::Tracepoint),
        _ => Err("the execve examples attach to `kprobe` or `tracepoint`".into()),
    }
}

/// The options of every example that hooks execve: `--attach`, `--trigger`, `--count`,
/// `--timeout`, `--verbose`.
#[derive(Clone, Debug, clap::Args)]
pub struct ExecveArgs {
    /// Force a hook: `kprobe` (the book's) or `tracepoint` (its stand-in where a kernel has no
    /// kprobes). By default the book's, where this kernel has it.
    #[arg(long, value_name = "HOOK", value_parser = execve_hook)]
    pub attach: Option<HookKind>,
    #[command(flatten)]
    pub trigger: ebpf_support::ExecTrigger,
    #[command(flatten)]
    pub run: ebpf_support::RunArgs,
}
