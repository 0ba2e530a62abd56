// SPDX-License-Identifier: GPL-2.0
// The types that hello-buffer-config and hello-ring-buffer-config share with user space
// (Learning eBPF, chapter 4, “The bpf() System Call”).
#ifndef HELLO_BUFFER_CONFIG_H
#define HELLO_BUFFER_CONFIG_H

// ANCHOR: types
// The value of the config map: the message for one user ID. Twelve bytes, with no room
// promised for a terminating NUL ("Hi user 501!" fills it).
struct user_msg_t {
	char message[12];
};

// The event sent to user space for each execve.
struct data_t {
	int pid;
	int uid;
	char command[16];
	char message[12];
};
// ANCHOR_END: types

#endif
