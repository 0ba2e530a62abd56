//! What packet-parse's XDP program reports for each frame (`struct packet_info` in
//! `src/bpf/parse.h`), and how it is printed: shared by the binary and its tests.

use std::net::{Ipv4Addr, Ipv6Addr};

ebpf_support::skeleton!(parse);
pub use parse::types::packet_info;
pub use parse::{OpenParseSkel, ParseSkel, ParseSkelBuilder};

// SAFETY: packet_info is plain old data (integers and byte arrays), valid for any bytes.
unsafe impl plain::Plain for packet_info {}

pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_IPV6: u16 = 0x86dd;

/// One event from the ring buffer, or None if it is too short.
pub fn read(bytes: &[u8]) -> Option<packet_info> {
    let mut info = packet_info::default();
    plain::copy_from_bytes(&mut info, bytes).ok()?;
    Some(info)
}

/// TCP flags as tcpdump prints them: `[S]`, `[S.]`, `[P.]`, `[F.]` (`.` is ACK).
pub fn tcp_flags(flags: u8) -> String {
    let mut shown: String = [
        (0x01, 'F'),
        (0x02, 'S'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x20, 'U'),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, letter)| *letter)
    .collect();
    if flags & 0x10 != 0 {
        shown.push('.');
    }
    format!("[{shown}]")
}

fn icmp_name(version: u8, icmp_type: u8) -> &'static str {
    match (version, icmp_type) {
        (4, 0) | (6, 129) => "echo reply",
        (4, 8) | (6, 128) => "echo request",
        (4, 3) | (6, 1) => "destination unreachable",
        (4, 11) | (6, 3) => "time exceeded",
        _ => "other",
    }
}

/// One line per frame, in the spirit of tcpdump:
/// `IPv4 10.0.0.1:40000 > 10.0.0.2:7000: UDP, ttl 64, 47 bytes`.
pub fn describe(info: &packet_info) -> String {
    let (source, destination) = match info.ip_version {
        4 => {
            let v4 = |a: &[u8; 16]| Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string();
            (v4(&info.saddr), v4(&info.daddr))
        }
        6 => (
            Ipv6Addr::from(info.saddr).to_string(),
            Ipv6Addr::from(info.daddr).to_string(),
        ),
        _ => {
            return format!("ethertype {:#06x}, {} bytes", info.eth_proto, info.length);
        }
    };
    let hops = if info.ip_version == 4 {
        "ttl"
    } else {
        "hop limit"
    };
    let tail = format!("{hops} {}, {} bytes", info.ttl, info.length);
    let family = format!("IPv{}", info.ip_version);
    if info.l4_parsed == 0 {
        return format!(
            "{family} {source} > {destination}: protocol {}, {tail}",
            info.protocol
        );
    }
    match info.protocol {
        1 | 58 => format!(
            "{family} {source} > {destination}: {} {} (type {}, code {}), {tail}",
            if info.protocol == 1 { "ICMP" } else { "ICMPv6" },
            icmp_name(info.ip_version, info.icmp_type),
            info.icmp_type,
            info.icmp_code
        ),
        protocol => {
            let (name, flags) = match protocol {
                6 => ("TCP", format!(" {}", tcp_flags(info.tcp_flags))),
                _ => ("UDP", String::new()),
            };
            let port = |address: &str, port: u16| match info.ip_version {
                6 => format!("[{address}]:{port}"),
                _ => format!("{address}:{port}"),
            };
            format!(
                "{family} {} > {}: {name}{flags}, {tail}",
                port(&source, info.sport),
                port(&destination, info.dport)
            )
        }
    }
}
