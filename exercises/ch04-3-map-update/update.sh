#!/bin/sh
# Exercise 4.3: the check runs this while chapter 4's hello-buffer-config runs. Give user ID 2 the message
# "Hello 2" in the program's config map, from outside the program, with bpftool.
# TODO: one `bpftool map update` command (see README.md).
