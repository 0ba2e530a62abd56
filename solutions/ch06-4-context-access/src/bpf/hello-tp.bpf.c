// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 6, exercise 4: a tracepoint program with a context structure of its own,
// laid out as the tracepoint's format file says
// (/sys/kernel/tracing/events/syscalls/sys_enter_execve/format).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct my_syscalls_enter_execve {
	unsigned short common_type;
	unsigned char common_flags;
	unsigned char common_preempt_count;
	int common_pid;

	int syscall_nr;
	const char *filename;
	const char *const *argv;
	const char *const *envp;
};

SEC("tp/syscalls/sys_enter_execve")
int tp_exec(struct my_syscalls_enter_execve *ctx)
{
	// The common fields come first in the format file, but the program may not read them.
	bpf_printk("execve by %d: syscall %d", ctx->common_pid, ctx->syscall_nr);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
