#!/bin/sh
# Exercise 4.3: give user ID 2 the message "Hello 2" in the running program's config map.
# The key is the UID's four bytes (little-endian here), the value user_msg_t's 12 bytes.
bpftool map update name config key 2 0 0 0 value hex 48 65 6c 6c 6f 20 32 0 0 0 0 0
