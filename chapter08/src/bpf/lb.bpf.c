// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 8, “Load Balancing and Forwarding” (lb-from-scratch's xdp_lb_kern.c):
// an XDP load balancer. TCP packets from the client go to a backend picked at random, the
// backends' answers go back to the client, and every packet leaves again through the interface
// it came in on (XDP_TX) with the load balancer as its source.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lb.h"

#define ETH_P_IP 0x0800

// Filled in by user space before the program is loaded (see xdp-lb.rs).
const volatile struct lb_config addresses = {};

// ANCHOR: conntrack
// The backend each client connection was given, keyed by the client's TCP port. The book picks a
// backend per packet, which splits a connection's packets between both backends: the second one
// knows nothing of the connection and resets it. Picking once, on the SYN, keeps each connection
// on one backend.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u32);
} connections SEC(".maps");
// ANCHOR_END: conntrack

// ANCHOR: checksum
// A checksum covers 16-bit words, so when one 32-bit field changes from `from` to `to` the
// checksum can be updated without reading the rest of the data (RFC 1624:
// HC' = ~(~HC + ~m + m') for each changed word m).
static __always_inline void csum_replace4(__u16 *check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~*check;
	sum += (__u16)~(from >> 16) + (__u16)~from;
	sum += (to >> 16) + (to & 0xffff);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	*check = ~sum;
}
// ANCHOR_END: checksum

static __always_inline void copy_mac(unsigned char *to, const volatile unsigned char *from)
{
	for (int i = 0; i < 6; i++)
		to[i] = from[i];
}

// ANCHOR: pick
static __always_inline __u32 backend_for(struct tcphdr *tcph)
{
	__u16 port = tcph->source;
	__u32 *known = bpf_map_lookup_elem(&connections, &port);
	if (known && !tcph->syn)
		return *known;
	__u32 backend = bpf_get_prandom_u32() % 2;
	bpf_map_update_elem(&connections, &port, &backend, BPF_ANY);
	return backend;
}
// ANCHOR_END: pick

// ANCHOR: xdp_lb
SEC("xdp")
int xdp_load_balancer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	struct iphdr *iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return XDP_ABORTED;
	if (iph->protocol != IPPROTO_TCP)
		return XDP_PASS;
	struct tcphdr *tcph = (void *)iph + iph->ihl * 4;
	if (iph->ihl < 5 || (void *)(tcph + 1) > data_end)
		return XDP_ABORTED;

	__u32 old_daddr = iph->daddr;
	__u32 old_saddr = iph->saddr;
	if (iph->saddr == addresses.client_ip) {
		__u32 backend = backend_for(tcph);
		if (backend >= BACKENDS)
			return XDP_ABORTED;
		iph->daddr = addresses.backend_ip[backend];
		copy_mac(eth->h_dest, addresses.backend_mac[backend]);
	} else {
		iph->daddr = addresses.client_ip;
		copy_mac(eth->h_dest, addresses.client_mac);
	}
	iph->saddr = addresses.lb_ip;
	copy_mac(eth->h_source, addresses.lb_mac);

	// Both addresses are in the IP header's checksum, and in the TCP checksum's pseudo-header.
	csum_replace4(&iph->check, old_daddr, iph->daddr);
	csum_replace4(&iph->check, old_saddr, iph->saddr);
	csum_replace4(&tcph->check, old_daddr, iph->daddr);
	csum_replace4(&tcph->check, old_saddr, iph->saddr);

	return XDP_TX;
}
// ANCHOR_END: xdp_lb

char LICENSE[] SEC("license") = "Dual BSD/GPL";
