// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 4, “The bpf() System Call” (hello-buffer-config.py): hello-buffer with
// a per-user message that user space writes into a hash map before the program runs.
// vmlinux.h has a type called `config` (typedef struct config_s config), which would clash
// with the map's name: rename that type while the header is read. (Chapter 5's libbpf version
// of this program calls its map my_config instead.)
#define config vmlinux_config
#include "vmlinux.h"
#undef config
#include <bpf/bpf_helpers.h>
#include "hello-buffer-config.h"

// ANCHOR: maps
// BCC's BPF_PERF_OUTPUT(output): one perf ring per CPU.
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} output SEC(".maps");

// BCC's BPF_HASH(config, u32, struct user_msg_t), with BCC's default size.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, struct user_msg_t);
} config SEC(".maps");
// ANCHOR_END: maps

// ANCHOR: hello
SEC("ksyscall/execve")
int hello(void *ctx)
{
	struct data_t data = {};
	struct user_msg_t *p;

	data.pid = bpf_get_current_pid_tgid() >> 32;
	data.uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	bpf_get_current_comm(&data.command, sizeof(data.command));

	// The message user space configured for this user, if any.
	p = bpf_map_lookup_elem(&config, &data.uid);
	if (p != 0) {
		bpf_probe_read_kernel(&data.message, sizeof(data.message), p->message);
	} else {
		// The book's global `message`, as a string literal: a global would live in the
		// .rodata map, which libbpf-cargo's skeleton cannot have beside a map called `config`
		// (see hello-buffer-config-types.bpf.c). The literal gets a map of its own too,
		// .rodata.str1.1, which strace shows as one more MAP_CREATE.
		bpf_probe_read_kernel(&data.message, sizeof(data.message), "Hello World");
	}

	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}
// ANCHOR_END: hello

char LICENSE[] SEC("license") = "Dual BSD/GPL";
