// SPDX-License-Identifier: GPL-2.0
// Learning eBPF, chapter 8, “Encrypted Traffic” (tls.h): one piece of plaintext that crossed
// libssl, as tls.bpf.c sends it to user space.
#ifndef TLS_H
#define TLS_H

// At most this many bytes of each call are kept (a power of two, for the verifier's sake).
#define MAX_DATA 1024

enum direction {
	// The process read this from the connection (SSL_read's buffer, after the call).
	DIRECTION_READ,
	// The process wrote this to the connection (SSL_write's buffer).
	DIRECTION_WRITE,
};

struct tls_event {
	int pid;
	enum direction direction;
	// What the call returned: the number of plaintext bytes, maybe more than were kept.
	int len;
	// How many bytes of data are valid.
	int captured;
	char comm[16];
	unsigned char data[MAX_DATA];
};

#endif
