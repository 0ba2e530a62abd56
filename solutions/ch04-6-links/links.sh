#!/bin/sh
# Exercise 4.6: one line per link of process $PID: the link's id, its program's id and that
# program's name. The process holds each link through an fd, whose /proc/PID/fdinfo names the
# link's id; `bpftool link list` names each link's program (`ID: TYPE  prog PROG_ID`), and
# `bpftool prog list` each program's name (`ID: TYPE  name NAME  …`).
for link in $(grep -h '^link_id:' /proc/"$PID"/fdinfo/* | awk '{ print $2 }'); do
    prog=$(bpftool link list | awk -v id="$link:" '$1 == id { print $4 }')
    name=$(bpftool prog list | awk -v id="$prog:" '$1 == id { print $4 }')
    echo "$link $prog $name"
done
