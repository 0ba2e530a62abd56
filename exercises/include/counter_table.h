// SPDX-License-Identifier: GPL-2.0
// hello-map's counter_table and its update (chapter02/src/bpf/hello-map.bpf.c), shared by
// exercises 2.2, 2.3 and 2.5 so that each exercise file holds only its programs.
#ifndef COUNTER_TABLE_H
#define COUNTER_TABLE_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);
	__type(value, u64);
} counter_table SEC(".maps");

// Adds one to the count for key.
static void increment(u64 key)
{
	u64 counter = 0;
	u64 *p = bpf_map_lookup_elem(&counter_table, &key);

	if (p != NULL)
		counter = *p;
	counter++;
	bpf_map_update_elem(&counter_table, &key, &counter, BPF_ANY);
}

// The user ID is the lower 32 bits of bpf_get_current_uid_gid().
static u64 current_uid(void)
{
	return bpf_get_current_uid_gid() & 0xFFFFFFFF;
}

#endif
