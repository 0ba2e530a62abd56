// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 5, “CO-RE Example” (hello-buffer-config.bpf.c): on every execve, send
// the process's pid, uid, command and path, with a message configured per user, to user space.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hello-buffer-config.h"

// The book's perf buffer, as a ring buffer (chapter 2: one buffer for all CPUs, in order).
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} output SEC(".maps");

// Called `my_config`, not `config`: vmlinux.h already has a `config` symbol.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, struct user_msg_t);
} my_config SEC(".maps");

// A global variable, which BCC did not have: it lives in the object's .data section, which
// becomes a map, and user space can change it between open and load.
char message[12] = "Hello World";

// The book's `int BPF_KPROBE_SYSCALL(hello, const char *pathname)` reads the pathname from the
// kprobe's registers, which a tracepoint's context does not have. The registers the syscall
// was called with are also in the task, whichever hook runs us: one function serves both.
SEC("ksyscall/execve")
int hello(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	// BPF_CORE_READ(regs, di) on x86_64, BPF_CORE_READ(regs, orig_x0) on arm64: libbpf moves
	// the offset to wherever this kernel's pt_regs keeps that register.
	const char *pathname = (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs);

	struct data_t *data = bpf_ringbuf_reserve(&output, sizeof(*data), 0);
	if (!data)
		return 0;

	data->pid = bpf_get_current_pid_tgid() >> 32;
	u32 uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	data->uid = uid;
	bpf_get_current_comm(&data->command, sizeof(data->command));
	// The path is in the calling process's memory: a user-space read.
	bpf_probe_read_user_str(&data->path, sizeof(data->path), pathname);

	// The key from the stack: 6.12's verifier takes ring buffer memory as a map key, but 6.1's
	// refuses it (`R2 type=alloc_mem expected=fp, pkt, pkt_meta, map_key, map_value`).
	struct user_msg_t *p = bpf_map_lookup_elem(&my_config, &uid);
	if (p != 0)
		bpf_probe_read_kernel(&data->message, sizeof(data->message), p->message);
	else
		bpf_probe_read_kernel(&data->message, sizeof(data->message), message);

	bpf_ringbuf_submit(data, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
