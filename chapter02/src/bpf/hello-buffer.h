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

#endif
