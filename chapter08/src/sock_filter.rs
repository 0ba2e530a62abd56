//! The socket filter's description (`sock-filter`, after the book repository's socket_filter).

use ebpf_support::needs::{Capability as C, Example, Hook, Mutant, Privilege};

pub const SOCK_FILTER: Example = Example {
    package: "chapter08",
    name: "sock-filter",
    privilege: Privilege::Networking,
    needs: &[C::Btf],
    hook: Hook::SocketFilter,
    fallbacks: &[],
    mutants: &[
        Mutant {
            name: "udp-for-tcp",
            file: "sockfilter.bpf.c",
            from: "protocol == IPPROTO_TCP",
            to: "protocol == IPPROTO_UDP",
        },
        Mutant {
            name: "keep-everything",
            file: "sockfilter.bpf.c",
            from: "return 0; // drop it",
            to: "return -1; // drop it",
        },
    ],
};
