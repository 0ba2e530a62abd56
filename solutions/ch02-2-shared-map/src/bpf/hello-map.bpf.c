// SPDX-License-Identifier: GPL-2.0
// Exercise 2.2 (Learning eBPF, chapter 2's exercises): make hello-map count openat() and write()
// calls too, with separate programs that share one map. Check with `cargo learn check
// ch02-2-shared-map`.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// counter_table, increment() and current_uid(), as in chapter02's hello-map.
#include "counter_table.h"

SEC("tp/syscalls/sys_enter_execve")
int hello(void *ctx)
{
	increment(current_uid());
	return 0;
}

// Two more programs, each on its own tracepoint, counting into the same counter_table:
// a map belongs to the object, not to one program.
SEC("tp/syscalls/sys_enter_openat")
int hello_openat(void *ctx)
{
	increment(current_uid());
	return 0;
}

SEC("tp/syscalls/sys_enter_write")
int hello_write(void *ctx)
{
	increment(current_uid());
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
