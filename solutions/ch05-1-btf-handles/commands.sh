# Exercise 5.1 (solved): the map my_config and the program hello of the running
# ch05-1-btf-handles, each by every kind of handle bpftool takes.
bpftool btf dump map id $MAP_ID
bpftool btf dump map name my_config
bpftool btf dump map pinned /sys/fs/bpf/ch05-1-btf-handles/my_config
bpftool btf dump prog id $PROG_ID
bpftool btf dump prog name hello
bpftool btf dump prog tag $PROG_TAG
bpftool btf dump prog pinned /sys/fs/bpf/ch05-1-btf-handles/hello
