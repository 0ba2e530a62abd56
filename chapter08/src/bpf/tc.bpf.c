// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 8, “Traffic Control (TC)” (network.bpf.c in the book's repository):
// three programs for the clsact qdisc's ingress hook. A TC program sees the kernel's socket
// buffer (struct __sk_buff) rather than XDP's raw frame, and its return value is a TC action:
// TC_ACT_OK (0) passes the packet on, TC_ACT_SHOT (2) drops it, TC_ACT_UNSPEC (-1) means "no
// verdict" and lets the next filter decide, TC_ACT_REDIRECT (7) hands it to another interface.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "packet.h"

// From linux/pkt_cls.h, which vmlinux.h does not carry (they are #defines).
#define TC_ACT_UNSPEC -1
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

// Offsets of the fields tc_pingpong rewrites, for an Ethernet frame carrying IPv4 without
// options: the helpers that fix checksums take offsets into the packet.
#define IP_SRC_OFF (sizeof(struct ethhdr) + offsetof(struct iphdr, saddr))
#define IP_DST_OFF (sizeof(struct ethhdr) + offsetof(struct iphdr, daddr))
#define IP_CSUM_OFF (sizeof(struct ethhdr) + offsetof(struct iphdr, check))
#define ICMP_TYPE_OFF (sizeof(struct ethhdr) + sizeof(struct iphdr) + offsetof(struct icmphdr, type))
#define ICMP_CSUM_OFF (sizeof(struct ethhdr) + sizeof(struct iphdr) + offsetof(struct icmphdr, checksum))

// ANCHOR: tc_drop
SEC("tc")
int tc_drop(struct __sk_buff *skb)
{
	bpf_printk("[tc] dropping packet");
	return TC_ACT_SHOT;
}
// ANCHOR_END: tc_drop

// ANCHOR: is_icmp_ping_request
// Whether the frame is an IPv4 ICMP echo request (with a 20-byte IP header, as ping sends).
static __always_inline bool is_icmp_ping_request(void *data, void *data_end)
{
	if (lookup_protocol(data, data_end) != 1) // ICMP
		return false;
	struct iphdr *iph = data + sizeof(struct ethhdr);
	if (iph->ihl != 5)
		return false;
	struct icmphdr *icmp = (void *)(iph + 1);
	if ((void *)(icmp + 1) > data_end)
		return false;
	return icmp->type == ICMP_ECHO_REQUEST;
}
// ANCHOR_END: is_icmp_ping_request

// ANCHOR: tc_drop_ping
SEC("tc")
int tc_drop_ping(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (!is_icmp_ping_request(data, data_end))
		return TC_ACT_OK;

	struct iphdr *iph = data + sizeof(struct ethhdr);
	struct icmphdr *icmp = (void *)(iph + 1);
	bpf_printk("[tc] ICMP request for %x type %x", iph->daddr, icmp->type);
	return TC_ACT_SHOT;
}
// ANCHOR_END: tc_drop_ping

// ANCHOR: swap
static __always_inline void swap_mac_addresses(struct __sk_buff *skb)
{
	unsigned char src[ETH_ALEN], dst[ETH_ALEN];
	bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_source), src, ETH_ALEN);
	bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_dest), dst, ETH_ALEN);
	bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_source), dst, ETH_ALEN, 0);
	bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), src, ETH_ALEN, 0);
}

static __always_inline void swap_ip_addresses(struct __sk_buff *skb)
{
	__u32 src, dst;
	bpf_skb_load_bytes(skb, IP_SRC_OFF, &src, sizeof(src));
	bpf_skb_load_bytes(skb, IP_DST_OFF, &dst, sizeof(dst));
	// Each address that changes changes the header's checksum: tell the kernel the old and the
	// new value and it adjusts the checksum incrementally (RFC 1624) instead of recomputing it.
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, src, dst, sizeof(dst));
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, dst, src, sizeof(src));
	bpf_skb_store_bytes(skb, IP_SRC_OFF, &dst, sizeof(dst), 0);
	bpf_skb_store_bytes(skb, IP_DST_OFF, &src, sizeof(src), 0);
}

static __always_inline void update_icmp_type(struct __sk_buff *skb, __u8 old_type, __u8 new_type)
{
	// The checksum covers 16-bit words: the type is the high byte of the ICMP header's first.
	bpf_l4_csum_replace(skb, ICMP_CSUM_OFF, bpf_htons(old_type << 8), bpf_htons(new_type << 8), 2);
	bpf_skb_store_bytes(skb, ICMP_TYPE_OFF, &new_type, sizeof(new_type), 0);
}
// ANCHOR_END: swap

// ANCHOR: tc_pingpong
SEC("tc")
int tc_pingpong(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (!is_icmp_ping_request(data, data_end))
		return TC_ACT_OK;

	struct iphdr *iph = data + sizeof(struct ethhdr);
	struct icmphdr *icmp = (void *)(iph + 1);
	bpf_printk("[tc] ICMP request for %x type %x", iph->daddr, icmp->type);

	// Turn the request into its reply...
	swap_mac_addresses(skb);
	swap_ip_addresses(skb);
	update_icmp_type(skb, ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY);
	// ...send a copy of it out of the interface it came in on (flags 0: egress)...
	bpf_clone_redirect(skb, skb->ifindex, 0);
	// ...and drop the original, so the kernel never sees the request.
	return TC_ACT_SHOT;
}
// ANCHOR_END: tc_pingpong

char LICENSE[] SEC("license") = "Dual BSD/GPL";
