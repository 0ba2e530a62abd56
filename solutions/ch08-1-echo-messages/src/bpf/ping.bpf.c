// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 8, exercise 1, solved: ping() says which kind of ICMP packet went by.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "packet.h"

SEC("xdp")
int ping(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (lookup_protocol(data, data_end) == 1) { // ICMP
		// lookup_protocol checked the IP header; the ICMP header after it (ihl counts 32-bit
		// words, options included) still has to be proven inside the packet before its read.
		struct iphdr *iph = data + sizeof(struct ethhdr);
		if ((void *)(iph + 1) > data_end)
			return XDP_PASS;
		struct icmphdr *icmp = (void *)iph + iph->ihl * 4;
		if ((void *)(icmp + 1) > data_end)
			return XDP_PASS;
		if (icmp->type == ICMP_ECHO_REQUEST)
			bpf_printk("Hello ping: echo request");
		else if (icmp->type == ICMP_ECHO_REPLY)
			bpf_printk("Hello ping: echo reply");
		else
			bpf_printk("Hello ping");
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
