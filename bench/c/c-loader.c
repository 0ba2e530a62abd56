// SPDX-License-Identifier: Apache-2.0
// The baseline of the load-latency benchmark: the least a C program does to run chapter 2's
// hello-ring-buffer object as the Rust example does. It opens the object, gives the program
// the tracepoint stand-in where this kernel has no kprobes, loads it, attaches it, says
// "attached" on stderr, opens the ring buffer and exits (detaching everything).
//
//   c-loader OBJECT           load, attach, open the ring buffer, exit
//   c-loader --noop           exit at once: what starting the process costs
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

static int on_event(void *ctx, void *data, size_t size)
{
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: c-loader OBJECT | --noop\n");
		return 2;
	}
	if (strcmp(argv[1], "--noop") == 0)
		return 0;

	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "c-loader: cannot open %s\n", argv[1]);
		return 1;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "hello");
	struct bpf_map *output = bpf_object__find_map_by_name(obj, "output");
	if (!prog || !output) {
		fprintf(stderr, "c-loader: %s has no program hello or no map output\n", argv[1]);
		return 1;
	}
	// The example's stand-in hook: without kprobes, the same function as a tracepoint program.
	int kprobes = access("/sys/bus/event_source/devices/kprobe", F_OK) == 0;
	if (!kprobes)
		bpf_program__set_type(prog, BPF_PROG_TYPE_TRACEPOINT);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "c-loader: the kernel refused the object\n");
		return 1;
	}
	struct bpf_link *link = kprobes
		? bpf_program__attach_ksyscall(prog, "execve", NULL)
		: bpf_program__attach_tracepoint(prog, "syscalls", "sys_enter_execve");
	if (!link) {
		fprintf(stderr, "c-loader: cannot attach\n");
		return 1;
	}
	fprintf(stderr, "c-loader: attached\n");
	struct ring_buffer *ring = ring_buffer__new(bpf_map__fd(output), on_event, NULL, NULL);
	if (!ring) {
		fprintf(stderr, "c-loader: cannot open the ring buffer\n");
		return 1;
	}
	ring_buffer__free(ring);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
