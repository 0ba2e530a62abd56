# Exercise 5.1: bpftool btf dump commands, one per line, for the running ch05-1-btf-handles.
# The check sets $MAP_ID, $PROG_ID and $PROG_TAG (the program prints them), runs each line and
# compares the outputs. Lines starting with # are skipped.
bpftool btf dump map id $MAP_ID
# TODO: the same map, my_config, by its name and by the path it is pinned at.
# TODO: the program, hello, by its ID, its name, its tag and the path it is pinned at.
