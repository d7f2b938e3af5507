#!/usr/bin/env python3
"""SymPy's (and symb_anafis's) derivative sizes for the readable-derivatives set.

For every derivative of formulas.txt (see setlib.load_set) this computes, with SymPy 1.14:
  raw         count_ops of sympy.diff(f, ...) (SymPy's automatic evaluation only)
  simplified  count_ops of sympy.simplify(that)  (null when simplify runs past --timeout)
  anafis      count_ops of symb_anafis's printed derivative (anafis/: default
              simplification after each differentiation), parsed back into SymPy;
              null when symb_anafis cannot parse or differentiate the formula, prints
              an unevaluated derivative, or runs past --timeout
and writes sympy_sizes.jsonl, one object per derivative:
  {"formula", "wrt", "order", "label", "raw", "simplified", "simplified_text",
   "simplify_s", "anafis", "anafis_text", "anafis_error", "sympy_version", "anafis_version"}

Every size is count_ops of the printed text parsed *unevaluated* (setlib.parse, setlib.size),
the way measure.py counts chainrule's text, so that all systems are counted alike;
raw_internal and simplified_internal are count_ops of SymPy's expression objects
themselves (they differ from the text's count by a few ops in a few cases), for reference.

usage: python3 sympy_sizes.py [--timeout 20] [--anafis PATH|none] [--only SUBSTRING] [--jobs 2]
  --anafis defaults to anafis/target/release/readable-anafis, built with
  `cargo build --release --manifest-path anafis/Cargo.toml`; `none` skips symb_anafis.
  With --only, the matching records are recomputed and the others kept from the file.
"""
import argparse
import json
import multiprocessing as mp
import os
import re
import subprocess
import sys
import time

import sympy as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import setlib  # noqa: E402

ANAFIS_VERSION = "0.8.1"


def _simplify_worker(sym_text, seq, q):
    f = setlib.sympy_formula(sym_text)
    d = sp.diff(f, *[sp.Symbol(v, real=True) for v in seq])
    t = time.time()
    s = sp.simplify(d)
    q.put((str(s), time.time() - t, int(sp.count_ops(s))))


def simplified(sym_text, seq, timeout):
    q = mp.Queue()
    p = mp.Process(target=_simplify_worker, args=(sym_text, seq, q))
    p.start()
    p.join(timeout)
    if p.is_alive():
        p.kill()
        p.join()
        return None, None, None
    try:
        return q.get(timeout=5)
    except Exception:
        return None, None, None


def _swap_log2(t):
    """SymPy's log(x, b) is log base b of x; symb_anafis's log(b, x) is."""
    out, i = [], 0
    while True:
        m = re.compile(r"\bln\(").search(t, i)
        if not m:
            out.append(t[i:])
            return "".join(out)
        j, depth, comma = m.end(), 1, None
        while depth:
            c = t[j]
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif c == "," and depth == 1:
                comma = j
            j += 1
        if comma is None:
            out.append(t[i:m.end()])
            i = m.end()
            continue
        a, b = _swap_log2(t[m.end():comma]), _swap_log2(t[comma + 1:j - 1])
        out.append(t[i:m.start()] + f"log({b.strip()}, {a.strip()})")
        i = j


def anafis(binary, rec, timeout):
    text = _swap_log2(setlib.to_anafis(rec["sympy"]))
    f = setlib.sympy_formula(rec["sympy"])
    names = sorted(str(s) for s in f.free_symbols)
    try:
        p = subprocess.run([binary, "--symbols", ",".join(names), text, *rec["seq"]],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, "timeout"
    if p.returncode != 0:
        return None, None, p.stderr.strip()[:300] or f"exit {p.returncode}"
    out = p.stdout.strip()
    if "∂" in out:
        return None, out, "unevaluated derivative (a function symb_anafis cannot differentiate)"
    try:
        e = setlib.parse(out.replace("signum(", "sign("), "anafis")
    except Exception as ex:  # noqa: BLE001
        return None, out, f"sympy cannot read the text: {ex}"
    return setlib.size(e), out, None


def one(rec, args):
    f = setlib.sympy_formula(rec["sympy"])
    d = sp.diff(f, *[sp.Symbol(v, real=True) for v in rec["seq"]])
    raw = setlib.size(setlib.parse(str(d), "sympy"))
    stext, secs, s_internal = simplified(rec["sympy"], rec["seq"], args.timeout)
    simp = setlib.size(setlib.parse(stext, "sympy")) if stext is not None else None
    r = {
        "formula": rec["formula"], "wrt": rec["wrt"], "order": rec["order"], "label": rec["label"],
        "raw": raw, "simplified": simp, "simplified_text": stext,
        "simplify_s": round(secs, 3) if secs is not None else None,
        "raw_internal": int(sp.count_ops(d)), "simplified_internal": s_internal,
        "sympy_version": sp.__version__,
    }
    if args.anafis != "none":
        a, atext, err = anafis(args.anafis, rec, args.timeout)
        r.update(anafis=a, anafis_text=atext, anafis_error=err, anafis_version=ANAFIS_VERSION)
    return r


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--anafis", default=os.path.join(here, "anafis/target/release/readable-anafis"))
    ap.add_argument("--only", default=None)
    ap.add_argument("--out", default=setlib.SIZES)
    args = ap.parse_args()
    if args.anafis != "none" and not os.path.exists(args.anafis):
        sys.exit(f"{args.anafis} missing: cargo build --release --manifest-path {here}/anafis/Cargo.toml (or --anafis none)")
    recs = setlib.load_set()
    old = setlib.read_sizes(args.out) if args.only else {}
    out = []
    t0 = time.time()
    for i, rec in enumerate(recs):
        k = setlib.key(rec)
        if args.only and args.only not in rec["id"] and k in old:
            out.append(old[k])
            continue
        r = one(rec, args)
        out.append(r)
        print(f"[{i + 1}/{len(recs)}] {rec['id']}: raw={r['raw']} simplified={r['simplified']} "
              f"anafis={r.get('anafis')} ({time.time() - t0:.0f}s)", file=sys.stderr)
    with open(args.out + ".tmp", "w") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(args.out + ".tmp", args.out)
    print(f"wrote {args.out}: {len(out)} derivatives", file=sys.stderr)


if __name__ == "__main__":
    main()
