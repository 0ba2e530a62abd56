// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 4, “BPF Program and Map References”: a small program to load, attach,
// pin and unpin, so that what keeps it in the kernel can be watched.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// How many execs the program has seen: it keeps counting while only a pin holds it.
u64 execs = 0;

SEC("tracepoint/syscalls/sys_enter_execve")
int hello(void *ctx)
{
	__sync_fetch_and_add(&execs, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
