//! The XDP load balancer's description (`xdp-lb`, after the book's lb-from-scratch).

use ebpf_support::needs::{Capability as C, Example, Hook, Mutant, Privilege};

pub const XDP_LB: Example = Example {
    package: "chapter08",
    name: "xdp-lb",
    privilege: Privilege::Networking,
    needs: &[C::Btf, C::XdpOnVeth],
    hook: Hook::Xdp,
    fallbacks: &[],
    mutants: &[
        Mutant {
            name: "one-backend",
            file: "lb.bpf.c",
            from: "bpf_get_prandom_u32() % 2",
            to: "bpf_get_prandom_u32() % 1",
        },
        Mutant {
            name: "no-tcp-checksum",
            file: "lb.bpf.c",
            from: "csum_replace4(&tcph->check, old_saddr, iph->saddr);",
            to: "",
        },
        Mutant {
            name: "no-ip-checksum",
            file: "lb.bpf.c",
            from: "csum_replace4(&iph->check, old_daddr, iph->daddr);",
            to: "",
        },
        Mutant {
            name: "pass-not-tx",
            file: "lb.bpf.c",
            from: "return XDP_TX;",
            to: "return XDP_PASS;",
        },
    ],
};
