//! Chapter 2 of Learning eBPF: eBPF's "Hello World". The user-space pieces that more than one
//! example (or exercise) uses.

pub mod counts;
pub mod event;
pub mod syscalls;

use ebpf_support::needs::{Capability as C, Example};

/// The execve hook of hello, hello-map and the buffer examples.
const EXECVE_FALLBACK: Option<(C, &str)> =
    Some((C::Tracepoint, "tracepoint syscalls/sys_enter_execve"));

/// This chapter's examples and what they need from the kernel (the doctor checks them).
pub const EXAMPLES: &[Example] = &[
    Example {
        package: "chapter02",
        name: "hello",
        needs: &[C::Btf, C::Tracefs],
        hook: C::Ksyscall,
        fallback: EXECVE_FALLBACK,
    },
    Example {
        package: "chapter02",
        name: "hello-map",
        needs: &[C::Btf],
        hook: C::Ksyscall,
        fallback: EXECVE_FALLBACK,
    },
    Example {
        package: "chapter02",
        name: "hello-buffer",
        needs: &[C::Btf],
        hook: C::Ksyscall,
        fallback: EXECVE_FALLBACK,
    },
    Example {
        package: "chapter02",
        name: "hello-ring-buffer",
        needs: &[C::Btf, C::RingBuffer],
        hook: C::Ksyscall,
        fallback: EXECVE_FALLBACK,
    },
    Example {
        package: "chapter02",
        name: "hello-tail",
        needs: &[C::Btf, C::Tracefs],
        hook: C::RawTracepoint,
        fallback: None,
    },
];
