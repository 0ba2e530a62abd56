//! Chapter 3 of Learning eBPF: Anatomy of an eBPF Program. Each example's description (where
//! the book attaches it, what it needs), and the decoder of eBPF bytecode that `inspect` uses.

pub mod disasm;

use ebpf_support::needs::{Capability as C, Example, Hook, Mutant, Privilege};

pub const HELLO_XDP: Example = Example {
    package: "chapter03",
    name: "hello-xdp",
    privilege: Privilege::Networking,
    needs: &[C::Btf, C::Tracefs, C::XdpOnVeth],
    hook: Hook::Xdp,
    fallbacks: &[],
    mutants: &[
        Mutant {
            name: "no-increment",
            file: "hello.bpf.c",
            from: "counter++;",
            to: "",
        },
        Mutant {
            name: "drop",
            file: "hello.bpf.c",
            from: "return XDP_PASS;",
            to: "return XDP_DROP;",
        },
    ],
};

pub const HELLO_FUNC: Example = Example {
    package: "chapter03",
    name: "hello-func",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::Tracefs],
    hook: Hook::RawTracepoint("sys_enter"),
    fallbacks: &[],
    mutants: &[Mutant {
        name: "registers-for-opcode",
        file: "hello-func.bpf.c",
        from: "return ctx->args[1];",
        to: "return ctx->args[0];",
    }],
};

/// `inspect` loads nothing of its own: its tests inspect hello-func while it runs, and its
/// mutant is a hello-func whose function call the compiler inlined.
pub const INSPECT: Example = Example {
    package: "chapter03",
    name: "inspect",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::Tracefs],
    hook: Hook::RawTracepoint("sys_enter"),
    fallbacks: &[],
    mutants: &[Mutant {
        name: "inlined-call",
        file: "hello-func.bpf.c",
        from: "static __attribute((noinline)) int get_opcode",
        to: "static __attribute((always_inline)) int get_opcode",
    }],
};

/// This chapter's examples (the doctor and the compatibility table read them).
pub const EXAMPLES: &[Example] = &[HELLO_XDP, HELLO_FUNC, INSPECT];
