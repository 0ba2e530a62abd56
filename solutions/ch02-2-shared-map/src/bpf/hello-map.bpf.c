// SPDX-License-Identifier: GPL-2.0
// Exercise 2.2 (Learning eBPF §2.3): make hello-map count openat() and write() calls too, with
// separate programs that share one map. Check with `cargo learn check ch02-2-shared-map`.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);
	__type(value, u64);
} counter_table SEC(".maps");

static void increment(u64 key)
{
	u64 counter = 0;
	u64 *p = bpf_map_lookup_elem(&counter_table, &key);
	if (p != NULL)
		counter = *p;
	counter++;
	bpf_map_update_elem(&counter_table, &key, &counter, BPF_ANY);
}

static u64 current_uid(void)
{
	return bpf_get_current_uid_gid() & 0xFFFFFFFF;
}

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
