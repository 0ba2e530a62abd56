# Exercise 5.3: print three lines about the CO-RE relocations libbpf applies to `hello`,
#   relocations: N       (how many instructions libbpf patched)
#   field: STRUCT.FIELD  (the field the first relocation reads, as the log names it)
#   offset: N            (the offset libbpf wrote into that instruction for this kernel)
# The check runs this with sh and sets $PROGRAM to chapter 5's hello-buffer-config-core.
# Print what you found, or the commands that find it in the log of
# `"$PROGRAM" --verbose --trigger --count 1`.
echo "relocations: TODO"
echo "field: TODO"
echo "offset: TODO"
