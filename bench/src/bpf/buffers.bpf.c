// SPDX-License-Identifier: GPL-2.0
// The buffers benchmark: one 64-byte record per getppid() of the benchmark, sent through a BPF
// ring buffer or a perf buffer, and the fill of a ring that the C and Rust consumers drain.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "buffers.h"

// BTF describes globals, not local variables: this never-written global gives the skeleton
// (and so the Rust consumer) `types::event`.
const volatile struct event event_for_user_space = {};

// Set before load: only the benchmark's own getppid() calls make records.
const volatile __u32 benchmark_tgid = 0;

// Set by user space between runs. 0: submit with flags 0 (the kernel wakes the reader when it
// has caught up); K > 0: BPF_RB_NO_WAKEUP, and BPF_RB_FORCE_WAKEUP on every K-th record.
__u64 wakeup_every = 0;

__u64 seq = 0;
// Records that found no room.
__u64 dropped = 0;

// Sizes are set by user space before load.
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

// The ring that `fill` fills and the consumers drain.
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} drain_ring SEC(".maps");

static __always_inline bool from_benchmark(void)
{
	return bpf_get_current_pid_tgid() >> 32 == benchmark_tgid;
}

static __always_inline void fill_event(struct event *e)
{
	e->seq = seq++;
	for (int i = 0; i < 7; i++)
		e->payload[i] = i;
}

SEC("tp/syscalls/sys_enter_getppid")
int ring_event(void *ctx)
{
	if (!from_benchmark())
		return 0;
	struct event *e = bpf_ringbuf_reserve(&ring, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	fill_event(e);
	__u64 flags = 0;
	if (wakeup_every)
		flags = e->seq % wakeup_every == wakeup_every - 1 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(e, flags);
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int perf_event(void *ctx)
{
	if (!from_benchmark())
		return 0;
	struct event e;
	fill_event(&e);
	if (bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e)))
		__sync_fetch_and_add(&dropped, 1);
	return 0;
}

// Records with no wake-up at all: the ring fills while no consumer runs.
SEC("tp/syscalls/sys_enter_getppid")
int fill(void *ctx)
{
	if (!from_benchmark())
		return 0;
	struct event *e = bpf_ringbuf_reserve(&drain_ring, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	fill_event(e);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
