# Exercise 5.1 (solved): the map my_config and the program hello of a running
# hello-buffer-config-core, each by every kind of handle bpftool takes.
bpftool btf dump map id $MAP_ID
bpftool btf dump map name my_config
bpftool btf dump map pinned $MAP_PIN
bpftool btf dump prog id $PROG_ID
bpftool btf dump prog name hello
bpftool btf dump prog tag $PROG_TAG
bpftool btf dump prog pinned $PROG_PIN
