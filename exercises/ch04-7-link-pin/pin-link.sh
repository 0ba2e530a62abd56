#!/bin/sh
# Exercise 4.7: the check runs this while chapter 4's hello-buffer-config runs, with its process ID as $1. Pin
# the program's link at /sys/fs/bpf/mylink with bpftool, so that the link, and the program it
# attaches, stay after the program exits.
# TODO: find the link's id, and pin it (see README.md).
