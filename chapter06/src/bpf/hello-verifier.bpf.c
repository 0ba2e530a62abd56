// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 6, “The eBPF Verifier” (hello-verifier.bpf.c): a program that the
// verifier accepts, and next to each line it checks, the mistake that the book makes there.
// Each mistake is a variant of this one file: `#ifdef BREAK_NAME` holds the wrong line, the
// `#else` the right one. `hello-verifier --list` names them; `--break NAME` loads one.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hello-verifier.h"

// ANCHOR: globals
// Globals live in a map (.data), so the verifier knows their size but not their value.
int c = 1;
char message[12] = "Hello World";
// ANCHOR_END: globals

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} output SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, struct msg_t);
} my_config SEC(".maps");

// ANCHOR: kprobe_exec
// “Validating Helper Functions”: as an XDP program, this one would call helpers that XDP
// programs may not call.
#ifdef BREAK_KPROBE_AS_XDP
SEC("xdp")
#else
SEC("ksyscall/execve")
#endif
int kprobe_exec(void *ctx)
{
	struct data_t data = {};
	struct msg_t *p;
	u64 uid;

	data.counter = c;
	c++;

	data.pid = bpf_get_current_pid_tgid();
	uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	data.uid = uid;

#ifdef BREAK_XDP_HELPER_IN_KPROBE
	// A helper that only XDP programs may call.
	bpf_xdp_adjust_head(ctx, 0);
#endif

	// “Helper Function Arguments”: the first argument must be a pointer to a map.
#ifdef BREAK_WRONG_MAP_ARGUMENT
	p = bpf_map_lookup_elem(&data, &uid);
#else
	p = bpf_map_lookup_elem(&my_config, &uid);
#endif

	// “Checking Pointers Before Dereferencing Them”: the lookup may find nothing.
#ifdef BREAK_MISSING_NULL_CHECK
	char a = p->message[0];
	bpf_printk("%d", a);
#else
	if (p != 0) {
		char a = p->message[0];
		bpf_printk("%d", a);
	}
#endif

	if (p != 0) {
		bpf_probe_read_kernel(&data.message, sizeof(data.message), p->message);
	} else {
		bpf_probe_read_kernel(&data.message, sizeof(data.message), message);
	}

	// “Checking Memory Access”: with <=, c may index one byte past the global array.
#ifdef BREAK_GLOBAL_OFF_BY_ONE
	if (c <= sizeof(message)) {
#else
	if (c < sizeof(message)) {
#endif
		char a = message[c];
		bpf_printk("%c", a);
	}

	// Exercise 1: the same off-by-one on an array on the stack.
#ifdef BREAK_STACK_OFF_BY_ONE
	if (c <= sizeof(data.message)) {
#else
	if (c < sizeof(data.message)) {
#endif
		char a = data.message[c];
		bpf_printk("%c", a);
	}

	bpf_get_current_comm(&data.command, sizeof(data.command));
	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));

	return 0;
}
// ANCHOR_END: kprobe_exec

#ifdef BREAK_BPF_LOOP
static long print_i(u32 i, void *ctx)
{
	bpf_printk("Looping %d", i);
	return 0;
}
#endif

// ANCHOR: xdp_hello
SEC("xdp")
int xdp_hello(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	// “Checking Memory Access”: no arithmetic on the end of the packet.
#ifdef BREAK_DATA_END_ARITHMETIC
	data_end++;
#endif

	// “Accessing Context”: two fields of xdp_md read as one 8-byte word.
#ifdef BREAK_BAD_CONTEXT_ACCESS
	bpf_printk("%llx", *(u64 *)ctx);
#endif

	// “Loops” (exercise 2): a bounded loop passes. Without the pragma, clang unrolls it
	// and the verifier never sees a loop.
#ifdef BREAK_BOUNDED_LOOP
#pragma clang loop unroll(disable)
	for (int i = 0; i < 10; i++) {
		bpf_printk("Looping %d", i);
	}
#endif

	// “Loops” (exercise 3): c is a global, so nothing bounds this loop.
#ifdef BREAK_UNBOUNDED_LOOP
	for (int i = 0; i < c; i++) {
		bpf_printk("Looping %d", i);
	}
#endif

	// “Loops”: bpf_loop (5.17) verifies the callback once, whatever the count.
#ifdef BREAK_BPF_LOOP
	bpf_loop(10, print_i, 0, 0);
#endif

	// “Checking the Return Code”: without these two lines nothing sets R0.
#ifndef BREAK_NO_RETURN_VALUE
	bpf_printk("%x %x", data, data_end);
	return XDP_PASS;
#endif
}
// ANCHOR_END: xdp_hello

// ANCHOR: license
// “Checking the License”: without it, GPL-only helpers (bpf_probe_read_kernel) are refused.
#ifndef BREAK_MISSING_LICENSE
char LICENSE[] SEC("license") = "Dual BSD/GPL";
#endif
// ANCHOR_END: license
