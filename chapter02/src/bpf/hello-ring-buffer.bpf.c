// SPDX-License-Identifier: GPL-2.0
// hello-buffer over a BPF ring buffer (5.8+), which the book recommends over perf buffers: one
// buffer shared by all CPUs, so events arrive in order.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hello-buffer.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} output SEC(".maps");

static const char message[12] = "Hello World";

static int send_event(void)
{
	// Reserve space in the ring first: if the reader has fallen behind, the event is dropped
	// here instead of being copied and then lost.
	struct data_t *data = bpf_ringbuf_reserve(&output, sizeof(*data), 0);
	if (!data)
		return 0;

	data->pid = bpf_get_current_pid_tgid() >> 32;
	data->uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	bpf_get_current_comm(&data->command, sizeof(data->command));
	bpf_probe_read_kernel(&data->message, sizeof(data->message), message);

	bpf_ringbuf_submit(data, 0);
	return 0;
}

SEC("ksyscall/execve")
int BPF_KSYSCALL(hello)
{
	return send_event();
}

SEC("tp/syscalls/sys_enter_execve")
int hello_tp(void *ctx)
{
	return send_event();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
