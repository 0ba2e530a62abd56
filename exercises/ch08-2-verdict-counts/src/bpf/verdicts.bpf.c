// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 8, exercise 2, after the xdp-tutorial's packet counters: ping() with
// --drop's verdicts (chapter 8, “Packet Drops”), counting how many packets got each verdict.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "packet.h"

// One counter per verdict (XDP_ABORTED 0 … XDP_REDIRECT 4), per CPU: each CPU adds to its own
// copy, so no two CPUs ever write the same counter, and user space adds the copies up.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_REDIRECT + 1);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

// Counts one packet under `verdict`, and returns the verdict.
static __always_inline int count(__u32 verdict)
{
	// TODO: add one to this CPU's counter of `verdict` in the map `verdicts`.
	return verdict;
}

// The ICMP type of an IPv4 ICMP packet, or -1.
static __always_inline int icmp_type(void *data, void *data_end)
{
	if (lookup_protocol(data, data_end) != 1)
		return -1;
	struct iphdr *iph = data + sizeof(struct ethhdr);
	struct icmphdr *icmp = (void *)iph + iph->ihl * 4;
	if ((void *)(icmp + 1) > data_end)
		return -1;
	return icmp->type;
}

SEC("xdp")
int ping(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (icmp_type(data, data_end) == ICMP_ECHO_REQUEST)
		return count(XDP_DROP);
	return count(XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
