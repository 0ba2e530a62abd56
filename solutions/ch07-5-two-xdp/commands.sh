# Exercise 7.5: two iproute2 commands, one per line. The check runs them in a private network
# namespace whose interface is lo, in a directory that holds chapter 7's xdp.bpf.o.
ip link set dev lo xdp obj xdp.bpf.o sec xdp
ip link set dev lo xdp obj xdp.bpf.o sec xdp
