// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 8, exercise 3 (sslsniff): chapter 8's tls.bpf.c, whose SSL_read capture
// is not finished. Its SSL_write capture works: the READ lines do not show what was read.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "tls.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

// SSL_write's buffer, from the entry probe to the return probe, keyed by the thread
// (pid_tgid).
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, const void *);
} write_buffers SEC(".maps");

// Sends `len` bytes at `buf` (in the probed process's memory) to user space. A function of its
// own, so that struct tls_event is in the object's BTF and the skeleton.
static __noinline int capture(struct tls_event *event, const void *buf, int len,
			      enum direction direction)
{
	if (!event)
		return 0;
	__u32 captured = len < 0 ? 0 : len;
	if (captured > MAX_DATA)
		captured = MAX_DATA;
	event->pid = bpf_get_current_pid_tgid() >> 32;
	event->direction = direction;
	event->len = len;
	event->captured = captured;
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	if (bpf_probe_read_user(event->data, captured, buf))
		event->captured = 0;
	bpf_ringbuf_submit(event, 0);
	return 0;
}

static __always_inline int capture_on_return(void *map, int ret, enum direction direction)
{
	__u64 id = bpf_get_current_pid_tgid();
	const void **buf = bpf_map_lookup_elem(map, &id);
	if (!buf)
		return 0;
	// ret <= 0: an error, or nothing transferred.
	if (ret > 0)
		capture(bpf_ringbuf_reserve(&events, sizeof(struct tls_event), 0), *buf, ret,
			direction);
	bpf_map_delete_elem(map, &id);
	return 0;
}

// int SSL_read(SSL *ssl, void *buf, int num)
// TODO: this sends SSL_read's buffer as it is when SSL_read is entered, before SSL_read has put
// anything in it, and `num` is the buffer's size, not how much was read. Send the buffer when
// SSL_read returns instead, with the number of bytes it returns, as SSL_write's probes below do.
SEC("uprobe")
int BPF_UPROBE(ssl_read_entry, void *ssl, void *buf, int num)
{
	capture(bpf_ringbuf_reserve(&events, sizeof(struct tls_event), 0), buf, num,
		DIRECTION_READ);
	return 0;
}

// int SSL_write(SSL *ssl, const void *buf, int num)
SEC("uprobe")
int BPF_UPROBE(ssl_write_entry, void *ssl, const void *buf, int num)
{
	__u64 id = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&write_buffers, &id, &buf, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(ssl_write_return, int ret)
{
	return capture_on_return(&write_buffers, ret, DIRECTION_WRITE);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
