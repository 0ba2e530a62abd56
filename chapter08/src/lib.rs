//! Chapter 8 of Learning eBPF: eBPF for Networking. Each example's description (where the book
//! attaches it, what it needs, the mutants its tests must catch).

pub mod lb;
pub mod packet;
pub mod sock_filter;
pub mod tls;

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
        Mutant {
            name: "drop-passes",
            file: "ping.bpf.c",
            from: "return XDP_DROP;",
            to: "return XDP_PASS;",
        },
    ],
};

/// tc-ping: the book's three TC programs (tc_drop, tc_drop_ping, tc_pingpong) on the clsact
/// ingress hook of a lab interface.
pub const TC_PING: Example = Example {
    package: "chapter08",
    name: "tc-ping",
    privilege: Privilege::Networking,
    needs: &[C::Btf, C::Tracefs],
    hook: Hook::Tc,
    fallbacks: &[],
    mutants: &[
        Mutant {
            name: "pingpong-no-icmp-checksum-fix",
            file: "tc.bpf.c",
            from: "\tbpf_l4_csum_replace(skb, ICMP_CSUM_OFF",
            to: "\t// bpf_l4_csum_replace(skb, ICMP_CSUM_OFF",
        },
        Mutant {
            name: "pingpong-keeps-request-type",
            file: "tc.bpf.c",
            from: "update_icmp_type(skb, ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY);",
            to: "update_icmp_type(skb, ICMP_ECHO_REQUEST, ICMP_ECHO_REQUEST);",
        },
        Mutant {
            name: "pingpong-passes-the-request",
            file: "tc.bpf.c",
            from: "\t// ...and drop the original, so the kernel never sees the request.\n\treturn TC_ACT_SHOT;",
            to: "\treturn TC_ACT_OK;",
        },
        Mutant {
            name: "drop-ping-drops-replies",
            file: "tc.bpf.c",
            from: "return icmp->type == ICMP_ECHO_REQUEST;",
            to: "return icmp->type == ICMP_ECHO_REPLY;",
        },
        Mutant {
            name: "tc-drop-passes",
            file: "tc.bpf.c",
            from: "\tbpf_printk(\"[tc] dropping packet\");\n\treturn TC_ACT_SHOT;",
            to: "\tbpf_printk(\"[tc] dropping packet\");\n\treturn TC_ACT_OK;",
        },
    ],
};

/// packet-parse: Ethernet, IPv4 or IPv6, then ICMP, TCP or UDP, parsed in XDP with the bounds
/// checks the verifier asks for, and reported to user space through a ring buffer.
pub const PACKET_PARSE: Example = Example {
    package: "chapter08",
    name: "packet-parse",
    privilege: Privilege::Networking,
    needs: &[C::Btf, C::XdpOnVeth, C::RingBuffer],
    hook: Hook::Xdp,
    fallbacks: &[],
    mutants: &[
        Mutant {
            name: "ipv4-options-ignored",
            file: "parse.bpf.c",
            from: "l4 = (void *)iph + iph->ihl * 4;",
            to: "l4 = (void *)(iph + 1);",
        },
        Mutant {
            name: "ipv6-ethertype-for-ipv4",
            file: "parse.bpf.c",
            from: "} else if (info.eth_proto == ETH_P_IPV6) {",
            to: "} else if (info.eth_proto == ETH_P_IP) {",
        },
        Mutant {
            name: "udp-ports-swapped",
            file: "parse.bpf.c",
            from: "info->sport = bpf_ntohs(udp->source);\n\t\tinfo->dport = bpf_ntohs(udp->dest);",
            to: "info->sport = bpf_ntohs(udp->dest);\n\t\tinfo->dport = bpf_ntohs(udp->source);",
        },
        Mutant {
            name: "tcp-flags-wrong-byte",
            file: "parse.bpf.c",
            from: "info->tcp_flags = ((__u8 *)tcp)[13];",
            to: "info->tcp_flags = ((__u8 *)tcp)[12];",
        },
    ],
};

/// This chapter's examples (the doctor and the compatibility table read them).
pub const EXAMPLES: &[Example] = &[
    PING,
    PACKET_PARSE,
    TC_PING,
    lb::XDP_LB,
    sock_filter::SOCK_FILTER,
    tls::TLS_SNIFF,
];

/// Whether a `trace_pipe` line was written while this process's own traffic was handled: by
/// one of its threads, or by the kernel's softirq thread (`ksoftirqd/N`) or an idle CPU, where
/// packets also get processed. trace_pipe is shared by every program on the machine.
pub fn traced_here(line: &ebpf_support::TraceLine) -> bool {
    std::path::Path::new(&format!("/proc/self/task/{}", line.pid)).exists()
        || line.comm.starts_with("ksoftirqd/")
        || line.pid == 0
}

/// Pings `to` once a second through `pinger`, printing each reply as ping does, until `stopped`
/// says so (checked between pings, so that the last one's reply is waited for). Returns how
/// many requests were sent and how many replies came back.
pub fn ping_until_stopped(
    pinger: &ebpf_support::lab::Pinger,
    to: std::net::Ipv4Addr,
    stopped: &std::sync::mpsc::Receiver<()>,
) -> std::io::Result<(u16, u16)> {
    const INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
    let (mut sent, mut replies) = (0u16, 0u16);
    loop {
        sent += 1;
        let started = std::time::Instant::now();
        match pinger.ping(to, sent, INTERVAL)? {
            Some(time) => {
                replies += 1;
                println!(
                    "64 bytes from {to}: icmp_seq={sent} time={:.3} ms",
                    time.as_secs_f64() * 1000.0
                );
            }
            None => println!("no reply from {to}: icmp_seq={sent}"),
        }
        // The rest of the second (none after a ping that waited in vain).
        let rest = INTERVAL.saturating_sub(started.elapsed());
        if stopped.recv_timeout(rest) != Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
            return Ok((sent, replies));
        }
    }
}
