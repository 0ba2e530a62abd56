// SPDX-License-Identifier: GPL-2.0
// Exercise 7.4 (solved): chapter 7's tracepoint program on execve, and a program on
// sched/sched_process_exit.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

// Which program sent an event.
enum source {
	SOURCE_EXECVE,
	SOURCE_EXIT,
};

struct data_t {
	int source;
	int pid;
	char command[16];
	char path[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} output SEC(".maps");

// The pid, command and source of every event. (A function of its own, so that struct data_t
// is in the object's BTF and the skeleton.)
static __noinline void start(struct data_t *data, int source)
{
	data->source = source;
	data->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&data->command, sizeof(data->command));
}

// The layout of the tracepoint's record, from
// /sys/kernel/tracing/events/syscalls/sys_enter_execve/format.
struct my_syscalls_enter_execve {
	unsigned short common_type;
	unsigned char common_flags;
	unsigned char common_preempt_count;
	int common_pid;

	long syscall_nr;
	long filename_ptr;
	long argv_ptr;
	long envp_ptr;
};

SEC("tp/syscalls/sys_enter_execve")
int tp_sys_enter_execve(struct my_syscalls_enter_execve *ctx)
{
	struct data_t data = {};

	start(&data, SOURCE_EXECVE);
	bpf_probe_read_user_str(&data.path, sizeof(data.path), (void *)ctx->filename_ptr);
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

// A tracepoint on sched/sched_process_exit: it fires in the exiting process, so the pid and
// command are that process's own.
SEC("tp/sched/sched_process_exit")
int tp_sched_process_exit(void *ctx)
{
	struct data_t data = {};

	start(&data, SOURCE_EXIT);
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
