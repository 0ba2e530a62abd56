#!/bin/sh
# Exercise 4.4: the check runs this while chapter 4's hello-buffer-config runs. Pin its program, hello, at
# /sys/fs/bpf/hi with bpftool, so that it stays loaded after the program exits.
# TODO: one bpftool command (see README.md).
