// SPDX-License-Identifier: GPL-2.0
// The counters benchmark: one count per getppid() of the benchmark, kept three ways. Each
// program is attached alone; bpf_stats says what a run of it costs.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// Set before load: only the benchmark's own getppid() calls count.
const volatile __u32 benchmark_tgid = 0;

// One entry each (key 0), which user space creates before attaching.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} percpu_hash SEC(".maps");

__u64 global_count = 0;

static __always_inline bool from_benchmark(void)
{
	return bpf_get_current_pid_tgid() >> 32 == benchmark_tgid;
}

// The baseline: the same check of the caller, and no count.
SEC("tp/syscalls/sys_enter_getppid")
int empty(void *ctx)
{
	from_benchmark();
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int hash_atomic(void *ctx)
{
	__u32 key = 0;
	if (!from_benchmark())
		return 0;
	__u64 *count = bpf_map_lookup_elem(&hash, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

// Each CPU has its own value: no other CPU writes this cache line, so a plain add is safe.
SEC("tp/syscalls/sys_enter_getppid")
int percpu_hash_add(void *ctx)
{
	__u32 key = 0;
	if (!from_benchmark())
		return 0;
	__u64 *count = bpf_map_lookup_elem(&percpu_hash, &key);
	if (count)
		*count += 1;
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int global_atomic(void *ctx)
{
	if (from_benchmark())
		__sync_fetch_and_add(&global_count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
