// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 4, “The bpf() System Call”: an eBPF program that watches another
// process's bpf() calls, as `strace -e bpf` does in the book.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "bpf-watch.h"

// Set by user space before load: the process to watch.
const volatile int target_tgid = 0;

// Calls in progress, by thread: the entry program fills one in, the exit program adds the
// result and sends it on.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u64);
	__type(value, struct bpf_call_t);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} output SEC(".maps");

// ANCHOR: enter
// int bpf(int cmd, union bpf_attr *attr, unsigned int size)
SEC("tracepoint/syscalls/sys_enter_bpf")
int bpf_enter(struct trace_event_raw_sys_enter *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	if (id >> 32 != target_tgid)
		return 0;

	struct bpf_call_t call = {};
	union bpf_attr *attr = (union bpf_attr *)ctx->args[1];
	call.pid = id >> 32;
	call.cmd = ctx->args[0];

	// attr points into the caller's memory: read it with bpf_probe_read_user.
	switch (call.cmd) {
	case BPF_MAP_CREATE:
		bpf_probe_read_user(&call.type, sizeof(u32), &attr->map_type);
		bpf_probe_read_user(&call.key_size, sizeof(u32), &attr->key_size);
		bpf_probe_read_user(&call.value_size, sizeof(u32), &attr->value_size);
		bpf_probe_read_user(&call.max_entries, sizeof(u32), &attr->max_entries);
		bpf_probe_read_user(&call.name, sizeof(call.name), &attr->map_name);
		break;
	case BPF_PROG_LOAD:
		bpf_probe_read_user(&call.type, sizeof(u32), &attr->prog_type);
		bpf_probe_read_user(&call.insn_cnt, sizeof(u32), &attr->insn_cnt);
		bpf_probe_read_user(&call.name, sizeof(call.name), &attr->prog_name);
		break;
	case BPF_MAP_LOOKUP_ELEM:
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY:
	case BPF_MAP_FREEZE:
		bpf_probe_read_user(&call.fd, sizeof(u32), &attr->map_fd);
		break;
	case BPF_LINK_CREATE:
		bpf_probe_read_user(&call.fd, sizeof(u32), &attr->link_create.prog_fd);
		bpf_probe_read_user(&call.type, sizeof(u32), &attr->link_create.attach_type);
		break;
	case BPF_RAW_TRACEPOINT_OPEN: {
		u64 name = 0;
		bpf_probe_read_user(&call.fd, sizeof(u32), &attr->raw_tracepoint.prog_fd);
		bpf_probe_read_user(&name, sizeof(name), &attr->raw_tracepoint.name);
		// A pointer to a string in the caller's memory (NULL for BTF-typed programs).
		if (name)
			bpf_probe_read_user_str(&call.name, sizeof(call.name), (void *)name);
		break;
	}
	}
	bpf_map_update_elem(&calls, &id, &call, BPF_ANY);
	return 0;
}
// ANCHOR_END: enter

// ANCHOR: exit
SEC("tracepoint/syscalls/sys_exit_bpf")
int bpf_exit(struct trace_event_raw_sys_exit *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	struct bpf_call_t *call = bpf_map_lookup_elem(&calls, &id);
	if (!call)
		return 0;
	call->ret = ctx->ret;
	bpf_ringbuf_output(&output, call, sizeof(*call), 0);
	bpf_map_delete_elem(&calls, &id);
	return 0;
}
// ANCHOR_END: exit

char LICENSE[] SEC("license") = "Dual BSD/GPL";
