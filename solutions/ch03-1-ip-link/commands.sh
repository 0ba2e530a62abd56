# Exercise 3.1: the two iproute2 commands, one per line. The check runs them in a private
# network namespace, in a directory that holds hello.bpf.o; the namespace's interface is lo.
ip link set dev lo xdp obj hello.bpf.o sec xdp
ip link set dev lo xdp off
