// SPDX-License-Identifier: GPL-2.0
// What packet-parse reports for each frame: shared with user space through the skeleton's types.
#ifndef PARSE_H
#define PARSE_H

struct packet_info {
	__u32 length;     // bytes of the whole frame
	__u16 eth_proto;  // the EtherType, in host byte order: 0x0800 IPv4, 0x86dd IPv6
	__u8 ip_version;  // 4 or 6; 0 when the frame carries neither (or is cut short)
	__u8 protocol;    // the IP protocol: 1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6
	__u8 ttl;         // IPv4's time to live, IPv6's hop limit
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 tcp_flags;   // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20
	__u16 sport;      // TCP or UDP ports, in host byte order
	__u16 dport;
	__u8 l4_parsed;   // 1 once the ICMP, TCP or UDP header was read
	__u8 saddr[16];   // IPv4 uses the first 4 bytes
	__u8 daddr[16];
};

// BTF describes globals, not local variables: this never-written global puts packet_info among
// the skeleton's types, which user space reads events as (as chapter 2's data_t).
const volatile struct packet_info packet_info_for_user_space = {};

#endif
