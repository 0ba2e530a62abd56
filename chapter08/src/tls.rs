//! The TLS plaintext capture's description (`tls-sniff`, after Pixie's openssl-tracer and BCC's
//! sslsniff).

use ebpf_support::needs::{Capability as C, Example, Hook, Mutant, Privilege};

pub const TLS_SNIFF: Example = Example {
    package: "chapter08",
    name: "tls-sniff",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::Uprobe, C::RingBuffer],
    hook: Hook::Uprobe("SSL_write"),
    fallbacks: &[],
    mutants: &[
        Mutant {
            name: "read-at-entry",
            file: "tls.bpf.c",
            from: "bpf_map_update_elem(&read_buffers, &id, &buf, BPF_ANY);",
            to: "capture(bpf_ringbuf_reserve(&events, sizeof(struct tls_event), 0), buf, num, DIRECTION_READ);",
        },
        Mutant {
            name: "write-as-read",
            file: "tls.bpf.c",
            from: "return capture_on_return(&write_buffers, ret, DIRECTION_WRITE);",
            to: "return capture_on_return(&write_buffers, ret, DIRECTION_READ);",
        },
    ],
};
