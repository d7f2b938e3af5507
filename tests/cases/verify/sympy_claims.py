#!/usr/bin/env python3
"""Writes sympy_claims.jsonl: for each eval case of ../corpus.jsonl and each variable, the
derivative SymPy computes from the case's `sympy` form, in chainrule syntax: a claim
arranged as SymPy arranges it, for `tests/verify.rs`. Cases whose derivative needs a
function chainrule lacks (DiracDelta, Derivative, ...) are left out.

    python3 sympy_claims.py   # SymPy 1.14
"""
import json, os, re, signal
import sympy as sp

HERE = os.path.dirname(os.path.abspath(__file__))
RENAME = {"Abs": "abs", "Heaviside": "step", "Min": "min", "Max": "max", "atan2": "atan2",
          "log": "ln", "E": "e"}
BAD = ("DiracDelta", "Derivative", "Subs", "Piecewise", "re(", "im(", "zoo", "nan", "oo",
       "I", "floor", "ceiling", "sign(", "LambertW", "polygamma", "gamma")

def to_chainrule(text):
    text = text.replace("**", "^")
    for a, b in RENAME.items():
        text = re.sub(r"\b%s\b" % a, b, text)
    return text

def timeout(*_):
    raise TimeoutError

out = []
signal.signal(signal.SIGALRM, timeout)
for line in open(os.path.join(HERE, "..", "corpus.jsonl")):
    case = json.loads(line)
    if case["kind"] != "eval" or not case.get("sympy"):
        continue
    symbols = {v: sp.Symbol(v, real=True) for v in case["vars"]}
    try:
        signal.alarm(10)
        expr = sp.sympify(case["sympy"], locals=symbols)
        for v in case["vars"]:
            d = str(sp.diff(expr, symbols[v]))
            if any(re.search(r"\b" + re.escape(b.rstrip("(")) + r"\b", d) for b in BAD):
                continue
            if len(d) > 4000:
                continue
            out.append({"id": case["id"], "wrt": v, "claim": to_chainrule(d)})
        signal.alarm(0)
    except Exception:
        signal.alarm(0)
        continue
with open(os.path.join(HERE, "sympy_claims.jsonl"), "w") as f:
    for o in out:
        f.write(json.dumps(o) + "\n")
print(len(out), "claims")
