# Exercise 7.1: for each program of chapter 7's hello.bpf.c that hello-attach loads on this
# kernel, print one line, `NAME TYPE`, as `strace -f -e trace=bpf` shows its BPF_PROG_LOAD call
# (prog_name="…" and prog_type=BPF_PROG_TYPE_…), sorted, each once. Leave out the calls that
# failed and libbpf's own probes (programs whose name is not one of hello.bpf.c's).
# The check runs this with sh and sets $PROGRAM to the path of hello-attach.
# Print what you found, or the commands that find it in a trace of
# `"$PROGRAM" --trigger --count 1`.
# TODO
