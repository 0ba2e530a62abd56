//! Crafted frames for BPF_PROG_TEST_RUN, built here byte by byte (with the checksums computed
//! independently of the programs under test), and a look inside an example's lab namespaces.

#![allow(dead_code)]

use ebpf_support::lab::internet_checksum;

pub const MAC_A: [u8; 6] = [0x02, 0x42, 10, 0, 0, 1];
pub const MAC_B: [u8; 6] = [0x02, 0x42, 10, 0, 0, 2];
pub const IP_A: [u8; 4] = [10, 0, 0, 1];
pub const IP_B: [u8; 4] = [10, 0, 0, 2];
pub const IP6_A: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub const IP6_B: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

pub const ETH_HLEN: usize = 14;

pub fn ethernet(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&dst);
    frame.extend_from_slice(&src);
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// An IPv4 packet (TTL 64, checksum filled in) with `options` (a multiple of 4 bytes).
pub fn ipv4(src: [u8; 4], dst: [u8; 4], protocol: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let header_len = 20 + options.len();
    let total = (header_len + payload.len()) as u16;
    let mut packet = vec![0x40 | (header_len / 4) as u8, 0];
    packet.extend_from_slice(&total.to_be_bytes());
    packet.extend_from_slice(&[0x12, 0x34, 0x40, 0x00, 64, protocol, 0, 0]);
    packet.extend_from_slice(&src);
    packet.extend_from_slice(&dst);
    packet.extend_from_slice(options);
    let checksum = internet_checksum(&packet);
    packet[10..12].copy_from_slice(&checksum.to_be_bytes());
    packet.extend_from_slice(payload);
    packet
}

/// An IPv6 packet, hop limit 64.
pub fn ipv6(src: [u8; 16], dst: [u8; 16], next_header: u8, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![0x60, 0, 0, 0];
    packet.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    packet.extend_from_slice(&[next_header, 64]);
    packet.extend_from_slice(&src);
    packet.extend_from_slice(&dst);
    packet.extend_from_slice(payload);
    packet
}

/// An ICMP message of `icmp_type` (echo: 8 request, 0 reply) with id, sequence and payload.
pub fn icmp_echo(icmp_type: u8, id: u16, seq: u16) -> Vec<u8> {
    let mut message = vec![icmp_type, 0, 0, 0];
    message.extend_from_slice(&id.to_be_bytes());
    message.extend_from_slice(&seq.to_be_bytes());
    message.extend_from_slice(b"learning ebpf, chapter 8");
    let checksum = internet_checksum(&message);
    message[2..4].copy_from_slice(&checksum.to_be_bytes());
    message
}

/// A TCP segment header with `flags` (its checksum is not checked by the programs: zero).
pub fn tcp(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut segment = Vec::new();
    segment.extend_from_slice(&sport.to_be_bytes());
    segment.extend_from_slice(&dport.to_be_bytes());
    segment.extend_from_slice(&1000u32.to_be_bytes());
    segment.extend_from_slice(&0u32.to_be_bytes());
    segment.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    segment
}

pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut datagram = Vec::new();
    datagram.extend_from_slice(&sport.to_be_bytes());
    datagram.extend_from_slice(&dport.to_be_bytes());
    datagram.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    datagram.extend_from_slice(&[0, 0]);
    datagram.extend_from_slice(payload);
    datagram
}

/// An echo request from a to b, as the lab's ping sends it.
pub fn echo_request_frame() -> Vec<u8> {
    ethernet(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4(IP_A, IP_B, 1, &[], &icmp_echo(8, 0x4242, 7)),
    )
}

/// Reads `session`'s lines until one satisfies `wanted`; returns every line read, that one
/// last (`Session::expect_line` keeps only the one it waited for).
pub fn lines_until(
    session: &mut ebpf_support::testing::Session,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let mut seen = Vec::new();
    session.expect_line(what, |line| {
        seen.push(line.to_string());
        wanted(line)
    });
    seen.join("\n")
}
