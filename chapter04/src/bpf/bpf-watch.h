// SPDX-License-Identifier: GPL-2.0
// One bpf() call of the watched process, as bpf-watch reports it (Learning eBPF, chapter 4,
// “The bpf() System Call”).
#ifndef BPF_WATCH_H
#define BPF_WATCH_H

// ANCHOR: bpf_call_t
struct bpf_call_t {
	int pid;
	unsigned int cmd;        // the first argument: BPF_MAP_CREATE, BPF_PROG_LOAD, ...
	long long ret;           // the result: a new fd, 0, or -errno
	// The key arguments, read from the caller's union bpf_attr; which ones are set
	// depends on cmd.
	unsigned int type;       // map_type, prog_type or a link's attach_type
	unsigned int fd;         // map_fd, or the prog_fd a link or raw tracepoint attaches
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int insn_cnt;
	char name[16];           // map_name, prog_name or the raw tracepoint's name
};
// ANCHOR_END: bpf_call_t

const volatile struct bpf_call_t bpf_call_t_for_user_space = {};

#endif
