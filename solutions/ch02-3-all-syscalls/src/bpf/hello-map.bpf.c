// SPDX-License-Identifier: GPL-2.0
// Exercise 2.3 (Learning eBPF, chapter 2's exercises): count all syscalls per user ID by attaching
// hello-map to the sys_enter raw tracepoint. Check with `cargo learn check ch02-3-all-syscalls`.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// counter_table, increment() and current_uid(), as in chapter02's hello-map.
#include "counter_table.h"

// Every syscall enters through the sys_enter raw tracepoint.
SEC("raw_tp/sys_enter")
int hello(struct bpf_raw_tracepoint_args *ctx)
{
	increment(current_uid());
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
