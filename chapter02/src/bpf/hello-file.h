// SPDX-License-Identifier: GPL-2.0
// The event that hello-file and hello-file-ring-buffer send to user space: who opened which path.
#ifndef HELLO_FILE_H
#define HELLO_FILE_H

// ANCHOR: file_event_t
struct file_event_t {
	int pid;
	int uid;
	int dfd;
	char command[16];
	char filename[256];
};
// ANCHOR_END: file_event_t

// Makes the skeleton generate `types::file_event_t` for Rust (see hello-buffer.h).
const volatile struct file_event_t file_event_for_user_space = {};

#endif
