#!/bin/sh
# Exercise 4.7: pin the link of process $1 at /sys/fs/bpf/mylink. The process holds the link
# through an fd; /proc/PID/fdinfo names its id.
id=$(grep -h '^link_id:' /proc/"$1"/fdinfo/* | awk '{ print $2; exit }')
bpftool link pin id "$id" /sys/fs/bpf/mylink
