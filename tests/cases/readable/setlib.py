"""Shared helpers of the readable-derivatives measurement (sympy_sizes.py, measure.py).

- load_set(): formulas.txt -> one record per derivative.
- parse(text, dialect): a derivative's text as a SymPy expression, *unevaluated* (no
  automatic collection, cancellation or folding), so that its size is the size of the
  text as printed. dialect "chainrule" (`^`, `ln`, chainrule's named functions, `e`),
  "sympy" (SymPy's own printing) or "anafis" (symb_anafis's Display).
- size(expr): SymPy's count_ops. A call of a named function (sigmoid, softplus, bce,
  logsumexp, ...) counts as ONE operation, like any SymPy function call (`sin`).
- numeric(expr): the same expression with the named functions replaced by their
  definitions, for evaluation.
"""
import itertools
import json
import os
import re

import sympy as sp
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

HERE = os.path.dirname(os.path.abspath(__file__))
FORMULAS = os.path.join(HERE, "formulas.txt")
SIZES = os.path.join(HERE, "sympy_sizes.jsonl")


# ----------------------------------------------------------------------------- the set

def load_set(path=FORMULAS):
    """Every derivative of the set, in file order:
    {"id", "line", "formula", "sympy", "vars", "order", "wrt", "seq", "label"}.
    `seq` is the list of variables to differentiate by, in order (d2/dxdy: ["y", "x"]:
    first y, then x); `wrt` is the variable (orders 1-4) or "x,y" (mixed)."""
    out = []
    with open(path) as f:
        for ln, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 4:
                raise ValueError(f"{path}:{ln}: expected 4 fields separated by |")
            formula, vs, order, sym = parts
            vars_ = [v.strip() for v in vs.split(",") if v.strip()]
            if order == "mixed":
                for u, v in itertools.combinations(vars_, 2):
                    out.append(dict(line=ln, formula=formula, sympy=sym, vars=vars_, order="mixed",
                                    wrt=f"{u},{v}", seq=[v, u], label=f"d2/d{u}d{v}"))
            else:
                n = int(order)
                if n not in (1, 2, 3, 4):
                    raise ValueError(f"{path}:{ln}: order {order}")
                for v in vars_:
                    out.append(dict(line=ln, formula=formula, sympy=sym, vars=vars_, order=n,
                                    wrt=v, seq=[v] * n, label=f"d/d{v}" if n == 1 else f"d{n}/d{v}{n}"))
    for r in out:
        r["id"] = f"{r['formula']} @ {r['label']}"
    return out


def key(rec):
    return (rec["formula"], rec["wrt"], str(rec["order"]))


# -------------------------------------------------------------------------- parsing

class _Named:
    """chainrule's functions that SymPy lacks: undefined functions for counting (one op a
    call), with their definitions for evaluation."""

    @staticmethod
    def defs():
        exp, log = sp.exp, sp.log
        return {
            "sigmoid": lambda u: 1 / (1 + exp(-u)),
            "softplus": lambda u: log(1 + exp(u)),
            "relu": lambda u: sp.Max(0, u),
            "step": lambda u: sp.Piecewise((1, u > 0), (0, True)),
            "bce": lambda p, y: -(y * log(p) + (1 - y) * log(1 - p)),
            "logsumexp": lambda *a: log(sum(exp(t) for t in a)),
            "silu": lambda u: u / (1 + exp(-u)),
            "swish": lambda u: u / (1 + exp(-u)),
            "gelu": lambda u: u * (1 + sp.erf(u / sp.sqrt(2))) / 2,
            "log1p": lambda u: log(1 + u),
            "expm1": lambda u: exp(u) - 1,
            "log2": lambda u: log(u) / log(2),
            "log10": lambda u: log(u) / log(10),
            "cbrt": lambda u: sp.sign(u) * sp.Abs(u) ** sp.Rational(1, 3),
            "hypot": lambda a, b: sp.sqrt(a ** 2 + b ** 2),
        }


NAMED = {n: sp.Function(n) for n in _Named.defs()}
_BUILTIN = {
    "ln": sp.log, "log": sp.log, "exp": sp.exp, "sqrt": sp.sqrt, "abs": sp.Abs, "Abs": sp.Abs,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "asinh": sp.asinh, "acosh": sp.acosh,
    "atanh": sp.atanh, "sign": sp.sign, "atan2": sp.atan2, "min": sp.Min, "max": sp.Max,
    "Min": sp.Min, "Max": sp.Max, "erf": sp.erf, "erfc": sp.erfc, "pow": sp.Pow,
    "sec": sp.sec, "csc": sp.csc, "cot": sp.cot, "Heaviside": sp.Heaviside,
    "sech": sp.sech, "csch": sp.csch, "coth": sp.coth, "Piecewise": sp.Piecewise,
}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _unlist(text):
    """`f([a, b], [c, d])` -> `f(a, b, c, d)`: list arguments of a reducer or loss become
    plain arguments (one call, one op)."""
    return text.replace("[", "").replace("]", "")


def parse(text, dialect="chainrule", evaluate=False):
    t = text.strip()
    if dialect in ("chainrule", "anafis"):
        t = t.replace("^", "**")
    if dialect == "anafis":
        t = t.replace("·", "*").replace("−", "-")
    t = _unlist(t)
    local = {}
    for m in _IDENT.finditer(t):
        name = m.group(0)
        if name in local:
            continue
        rest = t[m.end():].lstrip()
        is_call = rest.startswith("(")
        if is_call:
            if name in NAMED:
                local[name] = NAMED[name]
            elif name in _BUILTIN:
                local[name] = _BUILTIN[name]
            else:
                local[name] = sp.Function(name)
        elif name == "pi":
            local[name] = sp.pi
        elif name == "e" and dialect == "chainrule":
            local[name] = sp.E
        elif name == "E" and dialect == "sympy":
            local[name] = sp.Symbol("E", real=True)  # the set has no bare Euler number
        elif name in ("True", "False"):
            continue
        else:
            local[name] = sp.Symbol(name, real=True)
    return parse_expr(t, local_dict=local, transformations=standard_transformations, evaluate=evaluate)


def sympy_formula(text):
    """The set's SymPy column, evaluated (SymPy's own expression of the formula)."""
    return parse(text, "sympy", evaluate=True)


def _flat(e):
    """Unevaluated tree -> the shape SymPy's own expressions have, without any algebra:
    nested sums and products flattened, a product's numeric factors multiplied into one
    leading coefficient (so `-x*y` is Mul(-1, x, y), as SymPy writes it, and count_ops
    sees a negative term of a sum as a subtraction, not as an addition of a negation)."""
    if not e.args:
        return e
    args = [_flat(a) for a in e.args]
    if isinstance(e, sp.Add):
        out = []
        for a in args:
            out.extend(a.args if isinstance(a, sp.Add) else [a])
        return sp.Add(*out, evaluate=False)
    if isinstance(e, sp.Mul):
        out = []
        for a in args:
            out.extend(a.args if isinstance(a, sp.Mul) else [a])
        nums = [a for a in out if a.is_Number]
        rest = [a for a in out if not a.is_Number]
        c = sp.Integer(1)
        for n in nums:
            c = c * n
        if not rest:
            return c
        if c == 1:
            return rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
        return sp.Mul(c, *rest, evaluate=False)
    return e.func(*args, evaluate=False) if isinstance(e, (sp.Pow,)) else e.func(*args)


def size(expr):
    """count_ops of the expression as parsed (unevaluated), in SymPy's own tree shape."""
    return int(sp.count_ops(_flat(expr)))


def numeric(expr):
    """Named functions replaced by their definitions; unevaluated parts evaluated."""
    defs = _Named.defs()
    e = expr
    for name, f in NAMED.items():
        if e.has(f):
            e = e.replace(f, defs[name])
    return e.doit() if hasattr(e, "doit") else e


# ---------------------------------------------------------------------- sympy <-> anafis

def to_anafis(sympy_text):
    """The set's SymPy column in symb_anafis syntax."""
    t = sympy_text.replace("**", "^")
    t = re.sub(r"\blog\(", "ln(", t)
    t = re.sub(r"\bAbs\(", "abs(", t)
    return t


def read_sizes(path=SIZES):
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    out[(r["formula"], r["wrt"], str(r["order"]))] = r
    return out
