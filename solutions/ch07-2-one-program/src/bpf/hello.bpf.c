// SPDX-License-Identifier: GPL-2.0
// Exercise 7.2 (unchanged by the solution): three of chapter 7's programs, all on execve. The
// loader is where the exercise is.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

// Which program sent an event.
enum source {
	SOURCE_TP,
	SOURCE_TP_BTF,
	SOURCE_RAW_TP,
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

	start(&data, SOURCE_TP);
	bpf_probe_read_user_str(&data.path, sizeof(data.path), (void *)ctx->filename_ptr);
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct data_t data = {};

	start(&data, SOURCE_TP_BTF);
	bpf_probe_read_kernel_str(&data.path, sizeof(data.path), bprm->filename);
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

SEC("raw_tp/sched_process_exec")
int raw_tp_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct data_t data = {};
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];

	start(&data, SOURCE_RAW_TP);
	bpf_probe_read_kernel_str(&data.path, sizeof(data.path), BPF_CORE_READ(bprm, filename));
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
