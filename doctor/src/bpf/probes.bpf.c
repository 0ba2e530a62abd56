// SPDX-License-Identifier: GPL-2.0
// One small program per kernel feature the book relies on. The doctor loads (and where it
// matters attaches) each one alone: the kernel's answer is the honest test.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp/syscalls/sys_enter_getpid")
int probe_tracepoint(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_enter")
int probe_raw_tracepoint(void *ctx)
{
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(probe_tp_btf, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(probe_uprobe)
{
	return 0;
}

SEC("kprobe/vfs_read")
int probe_kprobe(struct pt_regs *ctx)
{
	return 0;
}

SEC("ksyscall/getpid")
int BPF_KSYSCALL(probe_ksyscall)
{
	return 0;
}

SEC("fentry/vfs_read")
int BPF_PROG(probe_fentry)
{
	return 0;
}

SEC("fexit/vfs_read")
int BPF_PROG(probe_fexit)
{
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(probe_lsm, struct file *file)
{
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("tp/syscalls/sys_enter_getpid")
int probe_ringbuf(void *ctx)
{
	u32 *slot = bpf_ringbuf_reserve(&events, sizeof(*slot), 0);

	if (slot) {
		*slot = 1;
		bpf_ringbuf_submit(slot, 0);
	}
	return 0;
}

static long count_step(u32 index, void *data)
{
	return 0;
}

SEC("tp/syscalls/sys_enter_getpid")
int probe_bpf_loop(void *ctx)
{
	bpf_loop(4, count_step, NULL, 0);
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} jump SEC(".maps");

// A BPF-to-BPF call in a program that also tail-calls: allowed since 5.10 on x86_64 and
// since 6.0 on arm64, where the JIT supports it.
static __noinline int subprogram(void *ctx)
{
	bpf_tail_call(ctx, &jump, 0);
	return 0;
}

SEC("raw_tp/sys_enter")
int probe_tail_call_subprog(void *ctx)
{
	return subprogram(ctx);
}

SEC("xdp")
int probe_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int probe_tc(struct __sk_buff *skb)
{
	return 0; // TC_ACT_OK
}

// A socket filter's return value is how many bytes of the packet the socket keeps.
SEC("socket")
int probe_socket_filter(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
