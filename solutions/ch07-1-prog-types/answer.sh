# Exercise 7.1 (solved): trace hello-attach's bpf() calls into a file, keep the BPF_PROG_LOAD
# calls that returned a program, and print each one's name and type.
trace=$(mktemp)
strace -f -e trace=bpf -o "$trace" "$PROGRAM" --trigger --count 1 >/dev/null 2>&1
grep "bpf(BPF_PROG_LOAD" "$trace" | grep -v "= -1 " |
    sed -n 's/.*prog_type=\(BPF_PROG_TYPE_[A-Z_]*\).*prog_name="\([^"]*\)".*/\2 \1/p' |
    grep -E "^(kprobe|kretprobe|fentry|fexit|tp|tp_btf|raw_tp|uprobe|uretprobe)_" | sort -u
rm -f "$trace"
