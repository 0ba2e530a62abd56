// SPDX-License-Identifier: GPL-2.0
// Learning eBPF's repository, chapter 2 (hello-file-ring-buffer.py): hello-file over a BPF ring
// buffer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "hello-file.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} output SEC(".maps");

// ANCHOR: hello
SEC("tp/syscalls/sys_enter_openat")
int hello_file(struct trace_event_raw_sys_enter *ctx)
{
	const char *filename = (const char *)ctx->args[1];
	struct file_event_t *event = bpf_ringbuf_reserve(&output, sizeof(*event), 0);
	if (!event)
		return 0;

	event->pid = bpf_get_current_pid_tgid() >> 32;
	event->uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	event->dfd = ctx->args[0];
	bpf_get_current_comm(&event->command, sizeof(event->command));
	bpf_probe_read_user_str(&event->filename, sizeof(event->filename), filename);

	bpf_ringbuf_submit(event, 0);
	return 0;
}
// ANCHOR_END: hello

char LICENSE[] SEC("license") = "Dual BSD/GPL";
