# Exercise 5.1: bpftool btf dump commands, one per line, for the map my_config and the program
# hello of a running hello-buffer-config-core. The check starts it, pins both, sets $MAP_ID,
# $PROG_ID, $PROG_TAG, $MAP_PIN and $PROG_PIN, runs each line and compares the outputs.
# Lines starting with # are skipped.
bpftool btf dump map id $MAP_ID
# TODO: the same map, my_config, by its name and by the path it is pinned at.
# TODO: the program, hello, by its ID, its name, its tag and the path it is pinned at.
