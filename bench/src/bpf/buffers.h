// SPDX-License-Identifier: GPL-2.0
// The record that the buffers benchmark sends through a ring buffer or a perf buffer, and that
// the C and Rust ring-buffer consumers read. The includer provides __u64 (vmlinux.h in the
// kernel, <linux/types.h> in user space).
#ifndef BUFFERS_H
#define BUFFERS_H

// 64 bytes: the sequence number the consumers sum, and a payload that stands for what a real
// event carries.
struct event {
	__u64 seq;
	__u64 payload[7];
};

#endif
