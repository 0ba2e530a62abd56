// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 2, “BCC's Hello World” (hello.py): print "Hello World" to the trace pipe
// on every execve.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

static int say_hello(void)
{
	// bpf_printk is libbpf's name for the book's bpf_trace_printk().
	bpf_printk("Hello World");
	return 0;
}

// The book's attach point: a kprobe on the execve syscall's kernel function, whose name
// differs per architecture (__x64_sys_execve, __arm64_sys_execve); libbpf's ksyscall finds it.
SEC("ksyscall/execve")
int BPF_KSYSCALL(hello)
{
	return say_hello();
}

// The same hook where a kernel has no kprobes.
SEC("tp/syscalls/sys_enter_execve")
int hello_tp(void *ctx)
{
	return say_hello();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
