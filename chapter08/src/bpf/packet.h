// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 8 (packet.h): find the IP protocol of an Ethernet frame, checking
// every read against the end of the packet as the verifier requires.
#ifndef PACKET_H
#define PACKET_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>

#define ETH_ALEN 6
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

// ANCHOR: lookup_protocol
// The IP protocol number of the packet between data and data_end (1 for ICMP, 6 for TCP, 17 for
// UDP), or 0 if it is not IPv4 or too short to tell.
static __always_inline unsigned char lookup_protocol(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	// The verifier refuses a read of eth->h_proto unless the program has proven it lies
	// before data_end.
	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	struct iphdr *iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return 0;
	return iph->protocol;
}
// ANCHOR_END: lookup_protocol

#endif
