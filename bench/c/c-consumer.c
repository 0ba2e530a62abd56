// SPDX-License-Identifier: Apache-2.0
// The baseline of the ring-buffer consumer comparison: the least a C program does to drain a
// BPF ring buffer with libbpf. It inherits the ring buffer map's file descriptor from the
// benchmark, which fills the ring with wake-ups off; on each "go" line on stdin it drains the
// ring with one ring_buffer__consume() and prints "NANOSECONDS RECORDS SUM_OF_SEQ". Its Rust
// twin is bench/src/bin/ring-consumer.rs.
//
//   c-consumer FD
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include "../src/bpf/buffers.h"

struct totals {
	__u64 records;
	__u64 sum;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct totals *totals = ctx;
	const struct event *e = data;
	totals->records++;
	totals->sum += e->seq;
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (__u64)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: c-consumer FD\n");
		return 2;
	}
	struct totals totals;
	struct ring_buffer *ring = ring_buffer__new(atoi(argv[1]), on_event, &totals, NULL);
	if (!ring) {
		fprintf(stderr, "c-consumer: cannot open the ring buffer of fd %s\n", argv[1]);
		return 1;
	}
	char line[16];
	while (fgets(line, sizeof(line), stdin)) {
		totals.records = totals.sum = 0;
		__u64 start = now_ns();
		int n = ring_buffer__consume(ring);
		__u64 took = now_ns() - start;
		if (n < 0) {
			fprintf(stderr, "c-consumer: ring_buffer__consume: %s\n", strerror(-n));
			return 1;
		}
		printf("%llu %llu %llu\n", took, totals.records, totals.sum);
		fflush(stdout);
	}
	ring_buffer__free(ring);
	return 0;
}
