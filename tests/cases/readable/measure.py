#!/usr/bin/env python3
"""Measure chainrule's printed derivatives on the readable-derivatives set.

usage: python3 measure.py BINARY [--json] [--reps 3] [--worst 15] [--only SUBSTRING]
                          [--mixed feedback|hessian] [--seed 1] [--causes]

For every derivative of formulas.txt:
  - runs `BINARY diff FORMULA --wrt v [--order N] --format json` (best wall time of --reps
    runs); a mixed partial d2/dxdy is, by default (`--mixed feedback`), `diff` of the
    printed d/dy text with respect to x (the text fed back as a new formula: chainrule's
    own mixed-partial output may differ); when x no longer appears in d/dy, d2/dxdy is 0.
    Its time is the sum of both calls. `--mixed hessian` uses `BINARY hessian --wrt x,y`.
  - counts the printed text with SymPy's count_ops, parsed unevaluated (setlib.parse: no
    automatic collection or cancellation; chainrule's named functions such as sigmoid are
    one op a call, like SymPy's sin);
  - checks the text numerically against SymPy's derivative of the SymPy column at 2
    random points (30-digit evaluation; relative 1e-9), where the reference is real;
  - flags decimal constants of 10 or more digits in the text that are not in the formula
    (`0.693...` for ln 2): such a derivative is not exact even when it agrees to 1e-9;
    short ones (`0.5`) are listed apart; and calls of the formula whose sum the text
    prints reordered (`sigmoid(b + w*x)` for `sigmoid(w*x + b)`);
  - compares with sympy_sizes.jsonl (SymPy raw diff, SymPy simplify, symb_anafis).
    Where SymPy's simplify timed out (null), SymPy's answer is its raw diff; where
    symb_anafis has no size, the smallest is over the SymPy pair.

With --causes, every derivative larger than SymPy simplify's gets the first cheap SymPy
rewrite of its text that closes the gap (auto: automatic evaluation only; factor:
factor_terms; quotient: together or cancel; identity: trigsimp; other), ~1 min more.

Prints the report (or, with --json, one JSON object: {"summary", "cases"}).
Exit status 0 (the report is a measurement, not a test).
"""
import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time

import sympy as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import setlib  # noqa: E402

TIME_LIMIT_MS = 50.0
_DEC = re.compile(r"(?<![A-Za-z_0-9.])(\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][-+]?\d+)")


def run(binary, args, reps):
    best, p = None, None
    for _ in range(max(1, reps)):
        t = time.perf_counter()
        p = subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)
        dt = (time.perf_counter() - t) * 1e3
        best = dt if best is None else min(best, dt)
    return p, best


def diff_text(binary, formula, var, order, reps):
    args = ["diff", formula, "--wrt", var, "--format", "json"]
    if order > 1:
        args += ["--order", str(order)]
    p, ms = run(binary, args, reps)
    if p.returncode != 0:
        return None, ms, p.stderr.strip() or f"exit status {p.returncode}"
    try:
        return json.loads(p.stdout)["derivatives"][var], ms, None
    except Exception as ex:  # noqa: BLE001
        return None, ms, f"unreadable output ({ex}): {p.stdout[:200]}"


def chainrule(binary, rec, reps, mixed):
    """(text, ms, error, note)"""
    if rec["order"] != "mixed":
        t, ms, err = diff_text(binary, rec["formula"], rec["wrt"], rec["order"], reps)
        return t, ms, err, None
    u, v = rec["wrt"].split(",")
    if mixed == "hessian":
        p, ms = run(binary, ["hessian", rec["formula"], "--wrt", f"{u},{v}", "--json"], reps)
        if p.returncode != 0:
            return None, ms, p.stderr.strip() or f"exit status {p.returncode}", "hessian"
        return json.loads(p.stdout)["hessian"][u][v], ms, None, "hessian"
    t1, ms1, err = diff_text(binary, rec["formula"], v, 1, reps)
    if err:
        return None, ms1, err, None
    t2, ms2, err = diff_text(binary, t1, u, 1, reps)
    note = f"d/d{u} of the printed d/d{v} = {t1}"
    if err and not re.search(rf"(?<![A-Za-z0-9_]){re.escape(u)}(?![A-Za-z0-9_])", t1):
        return "0", ms1 + ms2, None, note + f" (no {u} in it: 0)"
    return t2, ms1 + ms2, err, note


def literals(text):
    return {float(m.group(1)) for m in _DEC.finditer(text)}


def long_decimals(text, formula):
    """Decimal constants of the text, not in the formula, with 10 or more significant
    digits: the rounded value of an exact constant (ln 2 as 0.6931471805599453, 1/3 as
    0.3333333333333333, sqrt(2*pi)). Short ones (0.5 for 1/2) are listed apart."""
    new = literals(text) - literals(formula)
    digits = lambda x: len(re.sub(r"[^0-9]", "", repr(x).split("e")[0]).strip("0"))  # noqa: E731
    return sorted(x for x in new if digits(x) >= 10), sorted(x for x in new if digits(x) < 10)


_CALL = re.compile(r"\b([a-z_][a-z0-9_]*)\(")


def reordered(text, formula):
    """Calls of the formula whose argument is a sum or difference, e.g. sigmoid(w*x + b),
    that the text has with the same function but never with the argument as written
    (sigmoid(b + w*x)): the printer reordered the user's terms."""
    out = []
    assigned = set(re.findall(r"(?:^|;)\s*([A-Za-z_][A-Za-z0-9_]*)\s*=", formula))
    for m in _CALL.finditer(formula):
        depth, j = 1, m.end()
        while j < len(formula) and depth:
            depth += {"(": 1, ")": -1}.get(formula[j], 0)
            j += 1
        arg = formula[m.end():j - 1]
        if depth or not re.search(r"[^(\s][+-]", arg.replace(" ", "")) or "(" in arg:
            continue
        if assigned & set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", arg)):
            continue  # a program's names are inlined in the derivative
        call = f"{m.group(1)}({arg})"
        if f"{m.group(1)}(" in text and call not in text and call not in out:
            out.append(call)
    return out


def points(rec, ref, n=2, seed=1):
    syms = sorted(ref.free_symbols | setlib.sympy_formula(rec["sympy"]).free_symbols, key=str)
    rng = random.Random(f"{seed}:{rec['id']}")
    out = []
    for _ in range(200):
        pt = {s: sp.Float(round(rng.uniform(0.2, 0.9), 6), 30) for s in syms}
        try:
            val = sp.N(ref, 30, subs=pt)
        except Exception:  # noqa: BLE001
            continue
        if val.is_real and val.is_finite:
            out.append((pt, val))
            if len(out) == n:
                break
    return out


def check(text, rec, seed):
    """None when every point agrees, else a message."""
    f = setlib.sympy_formula(rec["sympy"])
    ref = sp.diff(f, *[sp.Symbol(v, real=True) for v in rec["seq"]])
    try:
        ours = setlib.numeric(setlib.parse(text, "chainrule", evaluate=True))
    except Exception as ex:  # noqa: BLE001
        return f"SymPy cannot read the text: {ex}"
    pts = points(rec, ref, seed=seed)
    if not pts:
        return "no point where the reference is real"
    for pt, want in pts:
        sub = {k: v for k, v in pt.items()}
        # names of the text missing from the reference (a derivative may lose variables)
        for s in ours.free_symbols:
            if s not in sub:
                sub[s] = sp.Float(0.5, 30)
        try:
            got = sp.N(ours, 30, subs=sub)
        except Exception as ex:  # noqa: BLE001
            return f"cannot evaluate: {ex}"
        if not (got.is_real and got.is_finite) or abs(got - want) > 1e-9 * abs(want) + 1e-12:
            at = ", ".join(f"{k}={float(v):g}" for k, v in pt.items())
            return f"at {at}: chainrule {sp.N(got, 12)}, SymPy {sp.N(want, 12)}"
    return None


CAUSES = [
    ("auto", "terms or powers not collected: SymPy's automatic evaluation alone (like terms, powers "
             "of one base, sqrt(u)^2, numbers) brings it to SymPy simplify's size",
     lambda e: e),
    ("factor", "common factors not pulled out (factor_terms)", sp.factor_terms),
    ("quotient", "quotients not combined or cancelled (together/cancel)",
     lambda e: sp.factor_terms(sp.together(e))),
    ("cancel", "quotients not combined or cancelled (together/cancel)", sp.cancel),
    ("identity", "trigonometric/hyperbolic identities (trigsimp)", lambda e: sp.factor_terms(sp.trigsimp(e))),
]


def cause(c, seconds=5):
    """For a derivative larger than SymPy simplify's: the first cheap SymPy rewrite of
    chainrule's text (parsed with automatic evaluation) that brings it to SymPy simplify's
    size or below, or "other" (needs more than one of them, or a full simplify)."""
    import signal

    class _Late(Exception):
        pass

    def late(*_):
        raise _Late()

    e = setlib.parse(c["text"], "chainrule", evaluate=True)
    old = signal.signal(signal.SIGALRM, late)
    try:
        for name, _, f in CAUSES:
            signal.alarm(seconds)
            try:
                if setlib.size(f(e)) <= c["simplify_or_raw"]:
                    return "quotient" if name == "cancel" else name
            except _Late:
                pass
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, old)
    return "other"


def order_class(rec):
    o = rec["order"]
    return "mixed" if o == "mixed" else ("1" if o == 1 else ("2" if o == 2 else "3-4"))


def measure(args):
    recs = setlib.load_set()
    if args.only:
        recs = [r for r in recs if args.only in r["id"]]
    sizes = setlib.read_sizes()
    cases = []
    for i, rec in enumerate(recs):
        text, ms, err, note = chainrule(args.binary, rec, args.reps, args.mixed)
        c = {"formula": rec["formula"], "wrt": rec["wrt"], "order": rec["order"], "label": rec["label"],
             "class": order_class(rec), "text": text, "ms": round(ms, 2), "error": err, "note": note}
        s = sizes.get(setlib.key(rec))
        if s is None:
            c["sympy"] = None
        else:
            simp = s["simplified"] if s["simplified"] is not None else s["raw"]
            cands = [x for x in (s["raw"], s["simplified"], s.get("anafis")) if x is not None]
            c.update(raw=s["raw"], simplified=s["simplified"], simplify_or_raw=simp,
                     simplified_text=s["simplified_text"], anafis=s.get("anafis"),
                     anafis_text=s.get("anafis_text"), best=min(cands))
        if text is not None:
            try:
                c["size"] = setlib.size(setlib.parse(text, "chainrule"))
                c["size_auto"] = setlib.size(setlib.parse(text, "chainrule", evaluate=True))
            except Exception as ex:  # noqa: BLE001
                c["size"] = None
                c["error"] = f"SymPy cannot read the text: {ex}"
            c["mismatch"] = check(text, rec, args.seed) if c["size"] is not None else None
            c["inexact"], c["short_decimals"] = long_decimals(text, rec["formula"])
            c["reordered"] = reordered(text, rec["formula"])
        if args.causes and c.get("size") is not None and c.get("best") is not None \
                and c["size"] > c["simplify_or_raw"]:
            c["cause"] = cause(c)
        cases.append(c)
        if sys.stderr.isatty():
            print(f"\r[{i + 1}/{len(recs)}]", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print("\r", end="", file=sys.stderr)
    return cases


def pct(a, b):
    return 100.0 * a / b if b else float("nan")


def summarize(cases):
    # a derivative chainrule failed to print counts as larger (and is left out of the totals)
    withref = [c for c in cases if c.get("best") is not None]
    ok = [c for c in withref if c.get("size") is not None]

    def block(cs):
        n = len(cs)
        cs = [c for c in cs if c.get("size") is not None]
        le_s = sum(c["size"] <= c["simplify_or_raw"] for c in cs)
        le_b = sum(c["size"] <= c["best"] for c in cs)
        le_r = sum(c["size"] <= c["raw"] for c in cs)
        le_se = sum(c["size"] <= c["simplify_or_raw"] and not c.get("inexact") for c in cs)
        an = [c for c in cs if c.get("anafis") is not None]
        return {
            "n": n, "le_simplify": le_s, "le_simplify_pct": round(pct(le_s, n), 1),
            "le_best": le_b, "le_best_pct": round(pct(le_b, n), 1),
            "le_raw": le_r, "le_raw_pct": round(pct(le_r, n), 1),
            "le_simplify_exact": le_se, "le_simplify_exact_pct": round(pct(le_se, n), 1),
            "total": sum(c["size"] for c in cs), "total_simplify": sum(c["simplify_or_raw"] for c in cs),
            "total_raw": sum(c["raw"] for c in cs), "total_best": sum(c["best"] for c in cs),
            "anafis_n": len(an), "total_anafis": sum(c["anafis"] for c in an),
            "total_ours_where_anafis": sum(c["size"] for c in an),
            "le_anafis": sum(c["size"] <= c["anafis"] for c in an),
        }

    by = {k: block([c for c in withref if c["class"] == k]) for k in ("1", "2", "3-4", "mixed")}
    times = [c["ms"] for c in cases if c.get("ms") is not None]
    return {
        "derivatives": len(cases), "formulas": len({c["formula"] for c in cases}),
        "measured": len(ok), "all": block(withref), "by_order": by,
        "simplify_timeouts": sum(1 for c in ok if c["simplified"] is None),
        "anafis_missing": sum(1 for c in ok if c.get("anafis") is None),
        "max_ms": max(times) if times else None, "median_ms": statistics.median(times) if times else None,
        "over_time_limit": [f"{c['formula']} @ {c['label']}: {c['ms']} ms" for c in cases if c.get("ms", 0) > TIME_LIMIT_MS],
        "errors": [f"{c['formula']} @ {c['label']}: {c['error']}" for c in cases if c.get("error")],
        "mismatches": [f"{c['formula']} @ {c['label']}: {c['mismatch']}" for c in cases if c.get("mismatch")],
        "inexact": [f"{c['formula']} @ {c['label']}: {', '.join(repr(x) for x in c['inexact'])}"
                    for c in cases if c.get("inexact")],
        "short_decimals": [f"{c['formula']} @ {c['label']}: {', '.join(repr(x) for x in c['short_decimals'])}"
                           for c in cases if c.get("short_decimals")],
        "reordered": [f"{c['formula']} @ {c['label']}: {', '.join(c['reordered'])}"
                      for c in cases if c.get("reordered")],
        "causes": {k: sum(1 for c in cases if c.get("cause") == k)
                   for k in ("auto", "factor", "quotient", "identity", "other")
                   if any(c.get("cause") == k for c in cases)},
        "missing_sympy_sizes": [f"{c['formula']} @ {c['label']}" for c in cases if c.get("best") is None],
    }


def report(cases, s, worst):
    a = s["all"]
    L = []
    L.append(f"readable-derivatives set: {s['formulas']} formulas, {s['derivatives']} derivatives "
             f"({s['measured']} printed and sized; a failure counts as larger)")
    L.append("")
    L.append(f"no larger than SymPy simplify:               {a['le_simplify']}/{a['n']} = {a['le_simplify_pct']}%   (goal >= 85%)")
    L.append(f"no larger than min(raw, simplify, anafis):   {a['le_best']}/{a['n']} = {a['le_best_pct']}%   (goal >= 75%)")
    L.append(f"  ... and exact (no long decimal for an exact constant): {a['le_simplify_exact']}/{a['n']} = {a['le_simplify_exact_pct']}%")
    L.append(f"no larger than SymPy raw diff:               {a['le_raw']}/{a['n']} = {a['le_raw_pct']}%")
    L.append(f"total size: chainrule {a['total']}, SymPy simplify {a['total_simplify']} (goal: chainrule <= it), "
             f"SymPy raw {a['total_raw']}, smallest-of-three {a['total_best']}")
    L.append(f"symb_anafis: {a['anafis_n']} derivatives sized, total {a['total_anafis']} "
             f"(chainrule {a['total_ours_where_anafis']} on those; no larger on {a['le_anafis']})")
    L.append(f"SymPy simplify timeouts (raw used): {s['simplify_timeouts']}; derivatives without a symb_anafis size: {s['anafis_missing']}")
    L.append(f"time per derivative (best of runs, process included): max {s['max_ms']:.1f} ms, median {s['median_ms']:.1f} ms; "
             f"over {TIME_LIMIT_MS:.0f} ms: {len(s['over_time_limit'])}")
    L.append(f"exact: numeric mismatches {len(s['mismatches'])}, derivatives with long decimals for exact constants "
             f"{len(s['inexact'])} (and with short decimals such as 0.5 not in the formula {len(s['short_decimals'])}), "
             f"errors {len(s['errors'])}")
    L.append(f"order: derivatives that print a call of the formula with its sum's terms reordered: {len(s['reordered'])}")
    L.append("")
    L.append("by order     n   <=simplify   <=smallest   total  simplify   raw  smallest")
    for k, b in s["by_order"].items():
        if b["n"]:
            L.append(f"  {k:6} {b['n']:5}   {b['le_simplify_pct']:8.1f}%   {b['le_best_pct']:8.1f}%   "
                     f"{b['total']:5} {b['total_simplify']:9} {b['total_raw']:5} {b['total_best']:9}")
    if s["causes"]:
        L.append("")
        L.append("larger than SymPy simplify, by the first cheap rewrite that closes the gap (--causes):")
        desc = {name: d for name, d, _ in CAUSES}
        desc["other"] = "none of these alone: needs a combination or a full simplify"
        for k, n in s["causes"].items():
            hi = sum(1 for c in cases if c.get("cause") == k and c["class"] != "1")
            dec = sum(1 for c in cases if c.get("cause") == k and c.get("inexact"))
            L.append(f"  {k:9} {n:3}  ({hi} of order >= 2 or mixed; {dec} with long decimals)  {desc[k]}")
    L.append("")
    ok = [c for c in cases if c.get("size") is not None and c.get("best") is not None]
    ok.sort(key=lambda c: (c["size"] - c["best"], c["size"] / max(1, c["best"])), reverse=True)
    L.append(f"{worst} worst (chainrule size - smallest of SymPy raw/simplify/symb_anafis):")
    for i, c in enumerate(ok[:worst], 1):
        L.append(f"{i:2}. {c['formula']}   {c['label']}   chainrule {c['size']}, simplify {c['simplify_or_raw']}, "
                 f"raw {c['raw']}, anafis {c.get('anafis')}" + (f"   [{c['cause']}]" if c.get("cause") else ""))
        L.append(f"      chainrule: {c['text']}")
        L.append(f"      simplify:  {c['simplified_text']}")
        if c.get("anafis") is not None and c["anafis"] < min(c["simplify_or_raw"], c["raw"]):
            L.append(f"      anafis:    {c['anafis_text']}")
        if c.get("note"):
            L.append(f"      ({c['note']})")
    for title, key in (("numeric mismatches", "mismatches"), ("long decimals for exact constants", "inexact"),
                       ("short decimals not in the formula", "short_decimals"), ("reordered calls", "reordered"),
                       ("errors", "errors"), (f"over {TIME_LIMIT_MS:.0f} ms", "over_time_limit"),
                       ("no SymPy sizes (rerun sympy_sizes.py)", "missing_sympy_sizes")):
        if s[key]:
            L.append("")
            L.append(f"{title} ({len(s[key])}):")
            L.extend(f"  {x}" for x in s[key])
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--worst", type=int, default=15)
    ap.add_argument("--only", default=None)
    ap.add_argument("--mixed", choices=("feedback", "hessian"), default="feedback")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--causes", action="store_true",
                    help="for each derivative larger than SymPy simplify's, the cheap rewrite that closes the gap")
    args = ap.parse_args()
    cases = measure(args)
    s = summarize(cases)
    if args.json:
        print(json.dumps({"summary": s, "cases": cases}, indent=1, ensure_ascii=False))
    else:
        print(report(cases, s, args.worst))


if __name__ == "__main__":
    main()
