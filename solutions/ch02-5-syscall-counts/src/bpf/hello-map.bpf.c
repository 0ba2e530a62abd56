// SPDX-License-Identifier: GPL-2.0
// Exercise 2.5 (Learning eBPF, chapter 2's exercises): adapt hello-map further so that the hash key
// is the syscall, giving system-wide counts per syscall. Check with `cargo learn check
// ch02-5-syscall-counts`.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// counter_table, increment() and current_uid(), as in chapter02's hello-map.
#include "counter_table.h"

// Every syscall enters through the sys_enter raw tracepoint; args[1] is its number.
SEC("raw_tp/sys_enter")
int hello(struct bpf_raw_tracepoint_args *ctx)
{
	increment(ctx->args[1]);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
