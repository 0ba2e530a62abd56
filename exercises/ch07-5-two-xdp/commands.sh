# Exercise 7.5: two iproute2 commands, one per line. The check runs them in a private network
# namespace whose interface is lo, in a directory that holds chapter 7's xdp.bpf.o.
# TODO: a command that attaches the xdp section of xdp.bpf.o to lo
# TODO: a command that attaches a second XDP program to lo
