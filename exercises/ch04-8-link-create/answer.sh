# Exercise 4.8: print three lines about the BPF_LINK_CREATE calls that chapter 5's
# hello-buffer-config-core makes, as `strace -f -e trace=bpf` shows them:
#   links: N           (how many of them returned a link's fd)
#   attach_type: NAME  (their attach_type, as strace prints it)
#   probes: N          (how many failed: libbpf's probes of what this kernel supports)
# The check runs this with sh and sets $PROGRAM to the path of hello-buffer-config-core.
# Print what you found, or the commands that find it in a trace of
# `"$PROGRAM" --trigger --count 1`.
echo "links: TODO"
echo "attach_type: TODO"
echo "probes: TODO"
