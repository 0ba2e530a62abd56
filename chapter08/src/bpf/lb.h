// SPDX-License-Identifier: GPL-2.0
// The load balancer's addresses, which user space writes into lb.bpf.c's .rodata before it
// loads the program (the book's lb-from-scratch has them hard-coded for its Docker network).
#ifndef LB_H
#define LB_H

#define BACKENDS 2

struct lb_config {
	// IPv4 addresses in network byte order, as they appear in the packet.
	__u32 client_ip;
	__u32 lb_ip;
	__u32 backend_ip[BACKENDS];
	unsigned char client_mac[6];
	unsigned char lb_mac[6];
	unsigned char backend_mac[BACKENDS][6];
};

#endif
