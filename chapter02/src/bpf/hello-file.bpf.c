// SPDX-License-Identifier: GPL-2.0
// Learning eBPF's repository, chapter 2 (hello-file.py): report every openat() with the path it
// opens, through a perf buffer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "hello-file.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} output SEC(".maps");

// ANCHOR: hello
// BCC's TRACEPOINT_PROBE(syscalls, sys_enter_openat): the section names the tracepoint, so
// libbpf attaches the program by itself. The context holds the syscall's arguments.
SEC("tp/syscalls/sys_enter_openat")
int hello_file(struct trace_event_raw_sys_enter *ctx)
{
	struct file_event_t event = {};
	const char *filename = (const char *)ctx->args[1];

	event.pid = bpf_get_current_pid_tgid() >> 32;
	event.uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	event.dfd = ctx->args[0];
	bpf_get_current_comm(&event.command, sizeof(event.command));
	// The path is a string in the calling process's memory: copy it, up to its NUL, with the
	// helper for user-space pointers.
	bpf_probe_read_user_str(&event.filename, sizeof(event.filename), filename);

	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &event, sizeof(event));
	return 0;
}
// ANCHOR_END: hello

char LICENSE[] SEC("license") = "Dual BSD/GPL";
