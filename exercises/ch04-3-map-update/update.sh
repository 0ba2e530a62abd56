#!/bin/sh
# Exercise 4.3: the check runs this while ch04-3-map-update runs. Give user ID 2 the message
# "Hello 2" in the program's config map, from outside the program, with bpftool.
# TODO: one `bpftool map update` command (see README.md).
