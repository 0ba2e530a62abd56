// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 3, “The eBPF Program” (hello.bpf.c): "Hello World" for a network
// interface, with a counter of the packets it saw.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// ANCHOR: counter
// A global variable: libbpf keeps it in an array map named hello.bss, which user space can read.
int counter = 0;
// ANCHOR_END: counter

// ANCHOR: hello
SEC("xdp")
int hello(void *ctx)
{
	bpf_printk("Hello World %d", counter);
	counter++;
	return XDP_PASS;
}
// ANCHOR_END: hello

char LICENSE[] SEC("license") = "Dual BSD/GPL";
