// SPDX-License-Identifier: GPL-2.0
// Exercise 2.2, solved: a program per syscall, all counting into one map.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// BCC's BPF_HASH(counter_table), with its default u64 key and value. The map belongs to the
// object, so every program in this file can use it.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);
	__type(value, u64);
} counter_table SEC(".maps");

// hello's body, now shared by the three programs.
static __always_inline void count_current_user(void)
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
}

// Tracepoint programs; src/main.rs attaches each to its syscall's tracepoint.
SEC("tp")
int hello(void *ctx)
{
	count_current_user();
	return 0;
}

SEC("tp")
int hello_openat(void *ctx)
{
	count_current_user();
	return 0;
}

SEC("tp")
int hello_write(void *ctx)
{
	count_current_user();
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
