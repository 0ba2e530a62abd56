//! Chapter 8 of Learning eBPF: eBPF for Networking. Each example's description (where the book
//! attaches it, what it needs, the mutants its tests must catch).

use ebpf_support::needs::{Capability as C, Example, Hook, Mutant, Privilege};

/// ping: the book's XDP program that says "Hello ping" for every ICMP packet, in a lab of its own.
pub const PING: Example = Example {
    package: "chapter08",
    name: "ping",
    privilege: Privilege::Networking,
    needs: &[C::Btf, C::Tracefs, C::XdpOnVeth],
    hook: Hook::Xdp,
    fallbacks: &[],
    mutants: &[
        Mutant {
            name: "tcp-for-icmp",
            file: "ping.bpf.c",
            from: "lookup_protocol(data, data_end) == 1)",
            to: "lookup_protocol(data, data_end) == 6)",
        },
        Mutant {
            name: "drop-replies",
            file: "ping.bpf.c",
            from: "== ICMP_ECHO_REQUEST)",
            to: "== ICMP_ECHO_REPLY)",
        },
    ],
};

/// This chapter's examples (the doctor and the compatibility table read them).
pub const EXAMPLES: &[Example] = &[PING];
