# Exercise 3.1: the two iproute2 commands, one per line. The check runs them in a private
# network namespace, in a directory that holds hello.bpf.o; the namespace's interface is lo.
# TODO: a command that attaches the xdp section of hello.bpf.o to lo
# TODO: a command that detaches it again
