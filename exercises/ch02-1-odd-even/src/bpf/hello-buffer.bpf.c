// SPDX-License-Identifier: GPL-2.0
// Exercise 2.1: chapter02's hello-buffer, with a message that depends on the process ID.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "hello-buffer.h"

// BCC's BPF_PERF_OUTPUT(output): one perf ring per CPU.
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} output SEC(".maps");

static const char message[12] = "Hello World";

// A tracepoint program; the loader attaches it to syscalls/sys_enter_execve.
SEC("tp")
int hello(void *ctx)
{
	struct data_t data = {};

	// The upper 32 bits of pid_tgid hold the process ID (the kernel's tgid).
	data.pid = bpf_get_current_pid_tgid() >> 32;
	data.uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	bpf_get_current_comm(&data.command, sizeof(data.command));
	// TODO (exercise 2.1): send a different message for odd and even process IDs, one that
	// says which it is (for example "Even pid" and "Odd pid"). data.message has room for 12
	// bytes, its NUL included.
	bpf_probe_read_kernel(&data.message, sizeof(data.message), message);

	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
