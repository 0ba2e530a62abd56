// SPDX-License-Identifier: GPL-2.0
// Exercise 2.4: chapter02's hello-tail, attached by its section name.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// BCC's BPF_PROG_ARRAY(syscall, 300). User space puts handler programs in it, keyed by
// syscall number; 512 covers both x86_64 and arm64 numbering.
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 512);
	__type(key, u32);
	__type(value, u32);
} syscall SEC(".maps");

// Syscall numbers differ per architecture, so user space sets these before loading.
const volatile int timer_create_nr = -1;
const volatile int timer_delete_nr = -1;

// A raw tracepoint's context holds the tracepoint's raw arguments; for sys_enter,
// args[1] is the syscall number.
// TODO (exercise 2.4): say in hello's section where it attaches, as BCC's
// RAW_TRACEPOINT_PROBE(sys_enter) does, so that libbpf can attach it without src/main.rs
// naming the tracepoint.
SEC("raw_tp")
int hello(struct bpf_raw_tracepoint_args *ctx)
{
	int opcode = ctx->args[1];

	// A successful tail call never returns: the handler replaces this program.
	bpf_tail_call(ctx, &syscall, opcode);
	bpf_printk("Another syscall: %d", opcode);
	return 0;
}

// Tail-call targets must have the caller's program type, so they are raw tracepoint programs
// too, loaded but not attached anywhere.
SEC("raw_tp")
int hello_exec(void *ctx)
{
	bpf_printk("Executing a program");
	return 0;
}

SEC("raw_tp")
int hello_timer(struct bpf_raw_tracepoint_args *ctx)
{
	int opcode = ctx->args[1];

	if (opcode == timer_create_nr)
		bpf_printk("Creating a timer");
	else if (opcode == timer_delete_nr)
		bpf_printk("Deleting a timer");
	else
		bpf_printk("Some other timer operation");
	return 0;
}

SEC("raw_tp")
int ignore_opcode(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
