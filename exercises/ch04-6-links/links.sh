#!/bin/sh
# Exercise 4.6: the check runs this while hello-buffer-config runs, with its process ID in
# $PID. Print one line per link of that process: the link's id, the id of the program it
# attaches, and that program's name, as in `12 345 hello`. Find them with `bpftool link list`
# and `bpftool prog list`.
# TODO: list the links of process $PID, and match each link's program in `bpftool prog list`
# (see README.md).
