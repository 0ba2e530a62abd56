# Exercise 5.3 (solved): read libbpf's log (stderr) as the program loads.
log=$("$PROGRAM" --verbose --trigger --count 1 2>&1 >/dev/null)
echo "relocations: $(echo "$log" | grep -c "prog 'hello': relo #[0-9]*: patched insn")"
echo "field: $(echo "$log" | sed -n "s/.*prog 'hello': relo #0: <[a-z_]*> \[[0-9]*\] [a-z]* \([^ ]*\) .*/\1/p")"
echo "offset: $(echo "$log" | sed -n "s/.*prog 'hello': relo #0: patched insn #[0-9]* ([^)]*) [a-z]* [0-9]* -> \([0-9]*\).*/\1/p")"
