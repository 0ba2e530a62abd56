// SPDX-License-Identifier: GPL-2.0
// The types that hello-verifier shares with user space (Learning eBPF, chapter 6).
#ifndef HELLO_VERIFIER_H
#define HELLO_VERIFIER_H

// The event sent to user space for each execve.
struct data_t {
	int pid;
	int uid;
	int counter;
	char command[16];
	char message[12];
};

// The value of the my_config map: the message for one user ID.
struct msg_t {
	char message[12];
};

#endif
