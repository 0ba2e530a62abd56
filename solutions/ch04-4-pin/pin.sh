#!/bin/sh
# Exercise 4.4: pin the running program hello at /sys/fs/bpf/hi.
bpftool prog pin name hello /sys/fs/bpf/hi
