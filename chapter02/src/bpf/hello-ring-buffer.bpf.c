// SPDX-License-Identifier: GPL-2.0
// hello-buffer over a BPF ring buffer (5.8+), which the book recommends over perf buffers: one
// buffer shared by all CPUs, so events arrive in order.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "hello-buffer.h"

// ANCHOR: map
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} output SEC(".maps");
// ANCHOR_END: map

static const char message[12] = "Hello World";

// ANCHOR: hello
SEC("ksyscall/execve")
int hello(void *ctx)
{
	// Reserve space in the ring first: if the reader has fallen behind, the event is dropped
	// here, before anything is copied.
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
// ANCHOR_END: hello

char LICENSE[] SEC("license") = "Dual BSD/GPL";
