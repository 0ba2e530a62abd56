// SPDX-License-Identifier: GPL-2.0
// Exercise 2.3 (Learning eBPF, chapter 2's exercises): count all syscalls per user ID by attaching
// hello-map to the sys_enter raw tracepoint. Check with `cargo learn check ch02-3-all-syscalls`.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// counter_table, increment() and current_uid(), as in chapter02's hello-map.
#include "counter_table.h"

// TODO (exercise 2.3): count every syscall, not only execve: attach to the sys_enter raw
// tracepoint instead (SEC("raw_tp/sys_enter"), whose context is
// struct bpf_raw_tracepoint_args *).
SEC("tp/syscalls/sys_enter_execve")
int hello(void *ctx)
{
	increment(current_uid());
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
