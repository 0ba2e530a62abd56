# Exercise 5.2 (solved): compare bpftool's dump of the object file's BTF with its dump of the
# loaded program's, and count the types (one line each starts with [ID]).
object=$(bpftool btf dump file "$OBJECT")
loaded=$(bpftool btf dump prog id "$PROG_ID")
if [ "$object" = "$loaded" ]; then echo "identical: yes"; else echo "identical: no"; fi
echo "types: $(echo "$loaded" | grep -c '^\[')"
