// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 2, “Hash Table Map” (hello-map.py): count execve calls per user ID in a
// hash map.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

// BCC's BPF_HASH(counter_table) with its default u64 key and value.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);
	__type(value, u64);
} counter_table SEC(".maps");

static int count_exec(void)
{
	// The lower 32 bits hold the UID, the upper 32 bits the GID.
	u64 uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	u64 counter = 0;
	u64 *p = bpf_map_lookup_elem(&counter_table, &uid);
	if (p != NULL)
		counter = *p;
	counter++;
	bpf_map_update_elem(&counter_table, &uid, &counter, BPF_ANY);
	return 0;
}

SEC("ksyscall/execve")
int BPF_KSYSCALL(hello)
{
	return count_exec();
}

SEC("tp/syscalls/sys_enter_execve")
int hello_tp(void *ctx)
{
	return count_exec();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
