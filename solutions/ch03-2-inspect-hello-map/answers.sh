# Exercise 3.2 (solved): chapter 2's hello-map ($PROGRAM), looked at with bpftool while it runs.
# The type, the tag and the instruction count depend on the kernel and the compiler, so this
# reads them rather than writing them down.
set -eu
"$PROGRAM" --interval 60 >/dev/null 2>&1 &
trap 'kill $! 2>/dev/null; wait' EXIT
prog=""
for _ in $(seq 100); do
  # 42: tracepoint  name hello  tag 82ede2e19786442a  gpl
  #         loaded_at ...  uid 0
  #         xlated 208B  jited 128B  memlock 4096B  map_ids 7
  prog=$(bpftool prog show name hello 2>/dev/null) || true
  [ -n "$prog" ] && break
  sleep 0.1
done
if [ -z "$prog" ]; then
  echo "hello-map's program hello did not load within 10 s" >&2
  exit 1
fi
first=$(echo "$prog" | head -n 1)
echo "name: $(echo "$first" | awk '{print $4}')"
echo "type: $(echo "$first" | awk '{print $2}')"
echo "tag: $(echo "$first" | awk '{print $6}')"
bytes=$(echo "$prog" | sed -n 's/.*xlated \([0-9]*\)B.*/\1/p')
echo "instructions: $((bytes / 8))"
# 7: hash  name counter_table  flags 0x0
map=$(bpftool map show id "$(echo "$prog" | sed -n 's/.*map_ids \([0-9]*\).*/\1/p')" | head -n 1)
echo "map: $(echo "$map" | awk '{print $4}')"
echo "map_type: $(echo "$map" | awk '{print $2}')"
