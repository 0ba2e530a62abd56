// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 4, “Ring Buffers” (hello-ring-buffer-config.py): hello-buffer-config
// over a BPF ring buffer (5.8+), one buffer shared by all CPUs.
// vmlinux.h has a type called `config` (typedef struct config_s config), which would clash
// with the map's name: rename that type while the header is read. (Chapter 5's libbpf version
// of this program calls its map my_config instead.)
#define config vmlinux_config
#include "vmlinux.h"
#undef config
#include <bpf/bpf_helpers.h>
#include "hello-buffer-config.h"

// ANCHOR: maps
// BCC's BPF_RINGBUF_OUTPUT(output, 1): one page. The kernel needs a power-of-two multiple of
// the page size.
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} output SEC(".maps");
// ANCHOR_END: maps

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, struct user_msg_t);
} config SEC(".maps");

// ANCHOR: hello
SEC("ksyscall/execve")
int hello(void *ctx)
{
	struct data_t data = {};
	struct user_msg_t *p;

	data.pid = bpf_get_current_pid_tgid() >> 32;
	data.uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	bpf_get_current_comm(&data.command, sizeof(data.command));

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

	// output.ringbuf_output(&data, sizeof(data), 0): copies the event into the ring.
	bpf_ringbuf_output(&output, &data, sizeof(data), 0);
	return 0;
}
// ANCHOR_END: hello

char LICENSE[] SEC("license") = "Dual BSD/GPL";
