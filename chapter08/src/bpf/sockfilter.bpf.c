// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 8 (the book repository's network.bpf.c, socket_filter): a socket
// filter on a raw socket. It returns how many bytes of each packet the socket receives: all of
// a TCP packet, nothing of anything else.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800

// ANCHOR: socket_filter
SEC("socket")
int socket_filter(struct __sk_buff *skb)
{
	// The kernel has already read the Ethernet header's type into skb->protocol.
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 0;
	// A socket filter has no direct packet access: it copies the bytes it needs. Counting from
	// the IP header works wherever the filter is attached (a raw packet socket sees the
	// Ethernet header first, a UDP socket sees none).
	__u8 protocol;
	if (bpf_skb_load_bytes_relative(skb, offsetof(struct iphdr, protocol), &protocol,
					sizeof(protocol), BPF_HDR_START_NET))
		return 0;
	if (protocol == IPPROTO_TCP)
		return -1; // keep the whole packet (the length is taken as unsigned)
	return 0; // drop it: the socket never sees it
}
// ANCHOR_END: socket_filter

char LICENSE[] SEC("license") = "Dual BSD/GPL";
