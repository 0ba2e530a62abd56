// SPDX-License-Identifier: GPL-2.0
// The event that hello-buffer and hello-ring-buffer send to user space (Learning eBPF, chapter 2,
// “Perf and Ring Buffer Maps”: data_t).
#ifndef HELLO_BUFFER_H
#define HELLO_BUFFER_H

struct data_t {
	int pid;
	int uid;
	char command[16];
	char message[12];
};

// Rust reads each event as the skeleton's `types::data_t`. libbpf-cargo generates Rust types
// only for what the object's global variables use, so this one never-written global makes
// `data_t` part of the skeleton.
const volatile struct data_t data_t_for_user_space = {};

#endif
