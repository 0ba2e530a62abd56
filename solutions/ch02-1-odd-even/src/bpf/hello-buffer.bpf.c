// SPDX-License-Identifier: GPL-2.0
// Exercise 2.1 (Learning eBPF, chapter 2's exercises): adapt hello-buffer to send different trace
// messages for odd and even process IDs. Check with `cargo learn check ch02-1-odd-even`.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// struct data_t, which user space reads as chapter02::event::Data.
#include "hello-buffer.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} output SEC(".maps");

static const char even_message[12] = "Even pid";
static const char odd_message[12] = "Odd pid";

SEC("tp/syscalls/sys_enter_execve")
int hello(void *ctx)
{
	struct data_t data = {};

	data.pid = bpf_get_current_pid_tgid() >> 32;
	data.uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	bpf_get_current_comm(&data.command, sizeof(data.command));
	if (data.pid % 2 == 0)
		bpf_probe_read_kernel(&data.message, sizeof(data.message), even_message);
	else
		bpf_probe_read_kernel(&data.message, sizeof(data.message), odd_message);

	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
