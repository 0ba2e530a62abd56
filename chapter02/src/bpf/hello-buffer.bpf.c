// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 2, “Perf and Ring Buffer Maps” (hello-buffer.py): send an event per execve
// through a perf buffer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "hello-buffer.h"

// ANCHOR: map
// BCC's BPF_PERF_OUTPUT(output): one perf ring per CPU.
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} output SEC(".maps");
// ANCHOR_END: map

// ANCHOR: message
static const char message[12] = "Hello World";
// ANCHOR_END: message

// ANCHOR: hello
SEC("ksyscall/execve")
int hello(void *ctx)
{
	struct data_t data = {};

	// The upper 32 bits of pid_tgid hold the process ID (the kernel's tgid).
	data.pid = bpf_get_current_pid_tgid() >> 32;
	data.uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	bpf_get_current_comm(&data.command, sizeof(data.command));
	bpf_probe_read_kernel(&data.message, sizeof(data.message), message);

	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}
// ANCHOR_END: hello

char LICENSE[] SEC("license") = "Dual BSD/GPL";
