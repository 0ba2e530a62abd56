// SPDX-License-Identifier: GPL-2.0
// The types that hello-buffer-config shares with user space (Learning eBPF, chapter 5,
// “CO-RE Example”, hello-buffer-config.h).
#ifndef HELLO_BUFFER_CONFIG_H
#define HELLO_BUFFER_CONFIG_H

struct data_t {
	int pid;
	int uid;
	char command[16];
	char message[12];
	char path[16];
};

struct user_msg_t {
	char message[12];
};

// Rust reads events as the skeleton's `types::data_t`; this never-written global puts the
// struct in the object's BTF, where libbpf-cargo finds it (chapter 2, hello-buffer.h).
const volatile struct data_t data_t_for_user_space = {};

#endif
