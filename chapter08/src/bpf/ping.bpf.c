// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 8, “Packet Drops” (ping.bpf.c): an XDP program that says hello for
// every ICMP packet and, on request, drops the echo requests.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "packet.h"

// Set by user space before loading (--drop): drop ICMP echo requests instead of passing them.
const volatile bool drop_echo_requests = false;

// The ICMP type of an IPv4 packet whose protocol is ICMP, or -1.
static __always_inline int icmp_type(void *data, void *data_end)
{
	struct iphdr *iph = data + sizeof(struct ethhdr);
	if ((void *)(iph + 1) > data_end)
		return -1;
	struct icmphdr *icmp = (void *)iph + iph->ihl * 4;
	if ((void *)(icmp + 1) > data_end)
		return -1;
	return icmp->type;
}

// ANCHOR: ping
SEC("xdp")
int ping(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (lookup_protocol(data, data_end) == 1) { // ICMP
		bpf_printk("Hello ping");
		if (drop_echo_requests && icmp_type(data, data_end) == ICMP_ECHO_REQUEST)
			return XDP_DROP;
	}
	return XDP_PASS;
}
// ANCHOR_END: ping

char LICENSE[] SEC("license") = "Dual BSD/GPL";
