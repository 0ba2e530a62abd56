// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 3, “BPF to BPF Calls” (hello-func.bpf.c): a raw tracepoint on
// sys_enter that gets the syscall's number from a function of its own.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// ANCHOR: get_opcode
// noinline keeps get_opcode a function of its own: the caller reaches it with `call pc+N`.
static __attribute((noinline)) int get_opcode(struct bpf_raw_tracepoint_args *ctx)
{
	// sys_enter's arguments: args[0] is the registers, args[1] the syscall's number.
	return ctx->args[1];
}
// ANCHOR_END: get_opcode

// ANCHOR: hello
// The book loads it with bpftool and names no tracepoint; hello-func attaches it to sys_enter.
SEC("raw_tp")
int hello(struct bpf_raw_tracepoint_args *ctx)
{
	int opcode = get_opcode(ctx);
	bpf_printk("Syscall: %d", opcode);
	return 0;
}
// ANCHOR_END: hello

char LICENSE[] SEC("license") = "Dual BSD/GPL";
