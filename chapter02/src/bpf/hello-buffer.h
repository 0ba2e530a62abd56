// SPDX-License-Identifier: GPL-2.0
// The event that hello-buffer and hello-ring-buffer send to user space (Learning eBPF, chapter 2,
// “Perf and Ring Buffer Maps”: data_t).
#ifndef HELLO_BUFFER_H
#define HELLO_BUFFER_H

// ANCHOR: data_t
struct data_t {
	int pid;
	int uid;
	char command[16];
	char message[12];
};
// ANCHOR_END: data_t

// ANCHOR: for_user_space
// Rust reads each event as the skeleton's `types::data_t`. libbpf-cargo generates Rust types
// from the object's BTF, which describes globals, maps and function signatures but not local
// variables: this one never-written global puts `data_t` there.
const volatile struct data_t data_t_for_user_space = {};
// ANCHOR_END: for_user_space

#endif
