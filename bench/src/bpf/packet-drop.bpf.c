// SPDX-License-Identifier: GPL-2.0
// The benchmarks' packet programs: an XDP program that drops every frame and counts it, a
// tracepoint that counts the skbs the kernel frees after use in the lab (both case `xdp`), and
// a TC allow-list that passes a packet only if its IPv4 source address is in a hash
// map (case `rules`, chapter 8's answer to long iptables chains).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

// From linux/pkt_cls.h and linux/if_ether.h, which vmlinux.h does not carry (they are #defines).
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800

// One counter per CPU: no two CPUs ever write the same one, so no atomic add is needed.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&drops, &zero);

	if (count)
		*count += 1;
	return XDP_DROP;
}

// The network namespace (its inode number) whose skbs count_consumed counts: the lab's b.
__u32 lab_netns = 0;

// How many skbs were released with consume_skb (freed after use, not dropped), by the place in
// the kernel that released them (a return address, which /proc/kallsyms names).
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, __u64);
} consumed SEC(".maps");

SEC("tp_btf/consume_skb")
int BPF_PROG(count_consumed, struct sk_buff *skb, void *location)
{
	struct net_device *dev = skb->dev;
	__u64 key = (__u64)location, one = 1;
	__u64 *count;

	if (!dev || dev->nd_net.net->ns.inum != lab_netns)
		return 0;
	count = bpf_map_lookup_elem(&consumed, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&consumed, &key, &one, BPF_NOEXIST);
	return 0;
}

// The allowed IPv4 source addresses (network byte order); the value is unused. Sized for the
// largest list the benchmark loads, so that every list size uses the same table.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} allowed SEC(".maps");

SEC("tc")
int tc_allow(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_SHOT;
	return bpf_map_lookup_elem(&allowed, &ip->saddr) ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
