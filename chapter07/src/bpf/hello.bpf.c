// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 7, “eBPF Program and Attachment Types” (hello.bpf.c): one program per
// kind of hook, each firing when a process calls execve, and each sending what it can see to
// user space through the same perf buffer.
// ANCHOR: includes
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hello.h"
// ANCHOR_END: includes

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} output SEC(".maps");

// The pid, command and source of every event; the caller fills in the rest and sends it.
// (A function of its own, so that struct data_t is in the object's BTF and the skeleton.)
static __noinline void start(struct data_t *data, int source)
{
	data->source = source;
	data->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&data->command, sizeof(data->command));
}

// ANCHOR: ksyscall
// A kprobe on the execve syscall's entry, as in chapter 5: libbpf finds this architecture's
// function (__x64_sys_execve, __arm64_sys_execve) and the macro unpacks the syscall's
// arguments from the registers the caller passed.
SEC("ksyscall/execve")
int BPF_KPROBE_SYSCALL(kprobe_sys_execve, const char *pathname)
{
	struct data_t data = {};

	start(&data, SOURCE_KSYSCALL);
	bpf_probe_read_user_str(&data.path, sizeof(data.path), pathname);
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}
// ANCHOR_END: ksyscall

// ANCHOR: kprobe
// A kprobe on a kernel function. The book's do_execve() is no longer a function of its own
// on current kernels (the compiler inlines it into the syscall), so this is the next function
// on the path that every exec takes: bprm_execve(). Its first argument is the same on every
// kernel here (6.1 passes three more), and a kprobe may leave out trailing arguments.
SEC("kprobe/bprm_execve")
int BPF_KPROBE(kprobe_bprm_execve, struct linux_binprm *bprm)
{
	struct data_t data = {};
	const char *filename;

	start(&data, SOURCE_KPROBE);
	// A kprobe sees only registers: every read of kernel memory is a helper call.
	filename = BPF_CORE_READ(bprm, filename);
	bpf_probe_read_kernel_str(&data.path, sizeof(data.path), filename);
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}
// ANCHOR_END: kprobe

// ANCHOR: kretprobe
// A kretprobe sees the return value and nothing else: the arguments are gone by then.
SEC("kretprobe/bprm_execve")
int BPF_KRETPROBE(kretprobe_bprm_execve, int ret)
{
	struct data_t data = {};

	start(&data, SOURCE_KRETPROBE);
	data.value = ret;
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}
// ANCHOR_END: kretprobe

// ANCHOR: fentry
// fentry: the same function through a BPF trampoline. The arguments are typed (BTF), so the
// program follows the pointer directly, without a helper.
SEC("fentry/bprm_execve")
int BPF_PROG(fentry_bprm_execve, struct linux_binprm *bprm)
{
	struct data_t data = {};

	start(&data, SOURCE_FENTRY);
	bpf_probe_read_kernel_str(&data.path, sizeof(data.path), bprm->filename);
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}
// ANCHOR_END: fentry

// ANCHOR: fexit
// fexit sees the arguments and then the return value, which comes right after the last
// argument. To reach it, a program declares every argument, and bprm_execve's differ between
// kernels (four up to 6.1: bprm, fd, filename, flags; one on 6.12). So there are two, and
// hello-attach loads the one that matches the arguments in this kernel's BTF. (Since 5.17,
// bpf_get_func_ret() reads the return value without knowing how many arguments there are.)
static __always_inline int fexit_event(void *ctx, struct linux_binprm *bprm, int ret)
{
	struct data_t data = {};

	start(&data, SOURCE_FEXIT);
	data.value = ret;
	bpf_probe_read_kernel_str(&data.path, sizeof(data.path), bprm->filename);
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

SEC("fexit/bprm_execve")
int BPF_PROG(fexit_bprm_execve, struct linux_binprm *bprm, int ret)
{
	return fexit_event(ctx, bprm, ret);
}

SEC("fexit/bprm_execve")
int BPF_PROG(fexit_bprm_execve_4, struct linux_binprm *bprm, int fd, struct filename *filename,
	     int flags, int ret)
{
	return fexit_event(ctx, bprm, ret);
}
// ANCHOR_END: fexit

// ANCHOR: tp
// A tracepoint's context is laid out as tracefs describes it
// (/sys/kernel/tracing/events/syscalls/sys_enter_execve/format): the common fields, which
// the program may not read, then the syscall's number and arguments.
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
// ANCHOR_END: tp

// ANCHOR: tp_btf
// A BTF-enabled tracepoint: the arguments of the kernel's trace_sched_process_exec(), typed.
// (The book declares its context as struct trace_event_raw_sched_process_exec, the layout of
// the tracepoint's record, which is what a `tp/` program gets; a tp_btf program gets the
// arguments, which is what the book's repository stumbled on.)
SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct data_t data = {};

	start(&data, SOURCE_TP_BTF);
	bpf_probe_read_kernel_str(&data.path, sizeof(data.path), bprm->filename);
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}
// ANCHOR_END: tp_btf

// ANCHOR: raw_tp
// A raw tracepoint: the same arguments, as untyped u64s that the program casts and reads
// with helpers.
SEC("raw_tp/sched_process_exec")
int raw_tp_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct data_t data = {};
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	const char *filename;

	start(&data, SOURCE_RAW_TP);
	filename = BPF_CORE_READ(bprm, filename);
	bpf_probe_read_kernel_str(&data.path, sizeof(data.path), filename);
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}
// ANCHOR_END: raw_tp

// ANCHOR: uprobe
// uprobes: a bare SEC("uprobe") names no binary and no function, so libbpf cannot attach it
// by itself; user space names both when it attaches (hello-attach finds the function in its
// own executable). For libbpf to attach it alone, the section needs the full form,
// SEC("uprobe/PATH:FUNCTION").
SEC("uprobe")
int BPF_UPROBE(uprobe_square, long long n)
{
	struct data_t data = {};

	start(&data, SOURCE_UPROBE);
	data.value = n;
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(uretprobe_square, long long square)
{
	struct data_t data = {};

	start(&data, SOURCE_URETPROBE);
	data.value = square;
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}
// ANCHOR_END: uprobe

// ANCHOR: uprobe_libc
// A uprobe on the C library's execve(): the user-space side of the same exec, in every
// process that calls it through this libc. Where libc lives differs per distribution and
// architecture (/usr/lib/x86_64-linux-gnu/libc.so.6, /usr/lib/aarch64-linux-gnu/libc.so.6),
// so user space finds it at run time.
SEC("uprobe")
int BPF_UPROBE(uprobe_libc_execve, const char *pathname)
{
	struct data_t data = {};

	start(&data, SOURCE_UPROBE_LIBC);
	bpf_probe_read_user_str(&data.path, sizeof(data.path), pathname);
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}
// ANCHOR_END: uprobe_libc

char LICENSE[] SEC("license") = "Dual BSD/GPL";
