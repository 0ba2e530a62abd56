// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 2, “BCC's Hello World” (hello.py): print "Hello World" to the trace pipe
// on every execve.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// ANCHOR: hello
// The section names the book's hook: a kprobe on the execve syscall's kernel function, whose
// name differs per architecture (__x64_sys_execve, __arm64_sys_execve); libbpf finds it.
SEC("ksyscall/execve")
int hello(void *ctx)
{
	// bpf_printk is libbpf's name for the book's bpf_trace_printk().
	bpf_printk("Hello World");
	return 0;
}
// ANCHOR_END: hello

// ANCHOR: license
char LICENSE[] SEC("license") = "Dual BSD/GPL";
// ANCHOR_END: license
