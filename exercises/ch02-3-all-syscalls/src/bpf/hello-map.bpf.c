// SPDX-License-Identifier: GPL-2.0
// Exercise 2.3: chapter02's hello-map, counting every syscall per user ID.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// BCC's BPF_HASH(counter_table), with its default u64 key and value.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);
	__type(value, u64);
} counter_table SEC(".maps");

// TODO (exercise 2.3): src/main.rs attaches hello to a raw tracepoint, which runs only raw
// tracepoint programs. The section's prefix sets the program's type: this one makes hello a
// tracepoint program.
SEC("tp")
int hello(void *ctx)
{
	u64 uid;
	u64 counter = 0;
	u64 *p;

	// The lower 32 bits hold the user ID, the upper 32 bits the group ID.
	uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	p = bpf_map_lookup_elem(&counter_table, &uid);
	if (p != NULL)
		counter = *p;
	counter++;
	bpf_map_update_elem(&counter_table, &uid, &counter, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
