// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 8, “Packet Drops” and “XDP Offloading”: parse a frame layer by layer —
// Ethernet, then IPv4 or IPv6, then ICMP, TCP or UDP — proving to the verifier before every read
// that it lies inside the packet, and report what was found to user space.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "packet.h"
#include "parse.h"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} packets SEC(".maps");

// ANCHOR: transport
// Reads the transport header at l4. ICMP and ICMPv6 headers start alike: type, code, checksum.
static __always_inline void parse_transport(void *l4, void *data_end, struct packet_info *info)
{
	switch (info->protocol) {
	case PROTO_ICMP:
	case PROTO_ICMPV6: {
		struct icmphdr *icmp = l4;
		if ((void *)(icmp + 1) > data_end)
			return;
		info->icmp_type = icmp->type;
		info->icmp_code = icmp->code;
		break;
	}
	case PROTO_TCP: {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return;
		info->sport = bpf_ntohs(tcp->source);
		info->dport = bpf_ntohs(tcp->dest);
		// The flags are bit fields in vmlinux.h's struct: read the byte they share.
		info->tcp_flags = ((__u8 *)tcp)[13];
		break;
	}
	case PROTO_UDP: {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return;
		info->sport = bpf_ntohs(udp->source);
		info->dport = bpf_ntohs(udp->dest);
		break;
	}
	default:
		return;
	}
	info->l4_parsed = 1;
}
// ANCHOR_END: transport

// ANCHOR: parse
SEC("xdp")
int parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct packet_info info = {};
	void *l4 = 0;

	info.length = data_end - data;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	info.eth_proto = bpf_ntohs(eth->h_proto);

	if (info.eth_proto == ETH_P_IP) {
		struct iphdr *iph = (void *)(eth + 1);
		if ((void *)(iph + 1) > data_end || iph->ihl < 5)
			goto report;
		info.ip_version = 4;
		info.protocol = iph->protocol;
		info.ttl = iph->ttl;
		__builtin_memcpy(info.saddr, &iph->saddr, 4);
		__builtin_memcpy(info.daddr, &iph->daddr, 4);
		// The header's length is in 32-bit words: options may follow the fixed 20 bytes.
		l4 = (void *)iph + iph->ihl * 4;
	} else if (info.eth_proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);
		if ((void *)(ip6h + 1) > data_end)
			goto report;
		info.ip_version = 6;
		// The first next header; extension headers (hop-by-hop, routing, …) are not followed.
		info.protocol = ip6h->nexthdr;
		info.ttl = ip6h->hop_limit;
		__builtin_memcpy(info.saddr, &ip6h->saddr, 16);
		__builtin_memcpy(info.daddr, &ip6h->daddr, 16);
		l4 = (void *)(ip6h + 1);
	}
	if (l4)
		parse_transport(l4, data_end, &info);
report:
	bpf_ringbuf_output(&packets, &info, sizeof(info), 0);
	return XDP_PASS;
}
// ANCHOR_END: parse

char LICENSE[] SEC("license") = "Dual BSD/GPL";
