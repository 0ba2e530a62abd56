#!/bin/sh
# Exercise 4.4: the check runs this while ch04-4-pin runs. Pin its program, hello, at
# /sys/fs/bpf/hi with bpftool, so that it stays loaded after the program exits.
# TODO: one bpftool command (see README.md).
