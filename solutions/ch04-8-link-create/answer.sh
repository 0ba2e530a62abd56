# Exercise 4.8 (solved): trace the program's bpf() calls into a file, then read the
# BPF_LINK_CREATE lines: a link's fd on success, -1 and an errno for a probe.
trace=$(mktemp)
strace -f -e trace=bpf -o "$trace" "$PROGRAM" --trigger --count 1 >/dev/null 2>&1
calls=$(grep "bpf(BPF_LINK_CREATE" "$trace")
rm -f "$trace"
echo "links: $(echo "$calls" | grep -vc "= -1 ")"
echo "attach_type: $(echo "$calls" | grep -v "= -1 " | sed -n 's/.*attach_type=\([A-Z_]*\).*/\1/p' | sort -u | paste -sd, -)"
echo "probes: $(echo "$calls" | grep -c "= -1 ")"
