// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 7, “XDP” (the book attaches chapter 3's hello.bpf.o with iproute2):
// an XDP program that counts the packets it sees and passes them on, for `ip link set dev
// eth0 xdp obj xdp.bpf.o sec xdp` to load and attach.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

int packets = 0;

// ANCHOR: xdp
SEC("xdp")
int hello(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&packets, 1);
	return XDP_PASS;
}
// ANCHOR_END: xdp

char LICENSE[] SEC("license") = "Dual BSD/GPL";
