#!/bin/sh
# Times chainrule on x1^2 + ... + xN^2: `eval` at a point binding all N variables (from a
# --params file: a 40,000-name --at is longer than one argument may be), `eval --grad`,
# and bench's phase times. Usage: many_vars.sh BINARY [N...]
bin=$1; shift
dir=$(mktemp -d)
for n in ${@:-10000 20000 40000}; do
    python3 - "$n" "$dir" <<'PY'
import sys, json
n, d = int(sys.argv[1]), sys.argv[2]
open(f"{d}/f.txt", "w").write(" + ".join(f"x{i}^2" for i in range(1, n + 1)))
json.dump({f"x{i}": 1.0 for i in range(1, n + 1)}, open(f"{d}/p.json", "w"))
PY
    t0=$(date +%s.%N); "$bin" eval -f "$dir/f.txt" --params "$dir/p.json" > /dev/null
    t1=$(date +%s.%N); "$bin" eval -f "$dir/f.txt" --params "$dir/p.json" --grad > /dev/null
    t2=$(date +%s.%N)
    b=$("$bin" bench -f "$dir/f.txt" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("diff %.0f ms, simplify %.0f ms, compile %.0f ms" % (d["diff_ms"], d["simplify_ms"], d["compile_ms"]))')
    echo "n=$n: eval $(echo "$t1 - $t0" | bc) s, eval --grad $(echo "$t2 - $t1" | bc) s; bench: $b"
done
rm -r "$dir"
