// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 8, exercise 1, on the book's ping() (chapter 8, “Packet Drops”): say
// which kind of ICMP packet went by.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "packet.h"

SEC("xdp")
int ping(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (lookup_protocol(data, data_end) == 1) { // ICMP
		// TODO: write "Hello ping: echo request" for an ICMP echo request and
		// "Hello ping: echo reply" for an echo reply (and "Hello ping" for any other ICMP
		// packet). The ICMP header follows the IP header.
		bpf_printk("Hello ping");
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
