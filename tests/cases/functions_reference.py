#!/usr/bin/env python3
"""Reference values for every function of SPEC.md ("Formula syntax" and "More functions"),
with mpmath at 50 digits.

Writes tests/cases/functions.jsonl next to this script: one line per case,
{"function", "args", "value", "partials"}, where args are the exact binary64 inputs,
value is f(args) and partials[i] is d f / d args[i], each computed in 50-digit arithmetic
from the exact inputs and rounded once to binary64. Points are ordinary ones and tails
(tiny and huge arguments, next to domain edges) where a naive formula loses accuracy.

Each analytic derivative below is also checked against mpmath's own numerical
differentiation (at 400 digits) wherever the function is smooth, so that a typo in a
reference formula cannot pass silently.

Run: python3 tests/cases/functions_reference.py   (needs mpmath: pip install mpmath)
"""

import json
import math
import os

import mpmath as mp
from mpmath import mpf

mp.mp.dps = 50
SQRT2 = mp.sqrt(2)


def phi(x):
    """The standard normal density."""
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def cdf(x):
    """The standard normal distribution function."""
    return mp.erfc(-x / SQRT2) / 2


def sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def cbrt(x):
    """The real cube root (mpmath's cbrt of a negative number is complex)."""
    return mp.sign(x) * mp.cbrt(abs(x))


def round_half_away(x):
    return mp.sign(x) * mp.floor(abs(x) + mpf(1) / 2)


def step(x):
    return mpf(1) if x > 0 else mpf(0)


# name: (value, [partial derivative per argument], smooth at the point?)
# A partial is a function of the same arguments. Kinks follow SPEC.md: derivative 0 for
# floor/ceil/round, leaky_relu takes the a*x side at 0, clamp passes the derivative of x on
# the closed interval [lo, hi] and of the bound outside it.
FUNCTIONS = {
    "erf": (mp.erf, [lambda x: 2 / mp.sqrt(mp.pi) * mp.exp(-x * x)]),
    "erfc": (mp.erfc, [lambda x: -2 / mp.sqrt(mp.pi) * mp.exp(-x * x)]),
    "log1p": (mp.log1p, [lambda x: 1 / (1 + x)]),
    "expm1": (mp.expm1, [mp.exp]),
    "log2": (lambda x: mp.log(x, 2), [lambda x: 1 / (x * mp.log(2))]),
    "log10": (mp.log10, [lambda x: 1 / (x * mp.log(10))]),
    "asinh": (mp.asinh, [lambda x: 1 / mp.sqrt(x * x + 1)]),
    "acosh": (mp.acosh, [lambda x: 1 / mp.sqrt(x * x - 1)]),
    "atanh": (mp.atanh, [lambda x: 1 / (1 - x * x)]),
    "cbrt": (cbrt, [lambda x: 1 / (3 * cbrt(x) ** 2)]),
    "gelu": (lambda x: x * cdf(x), [lambda x: cdf(x) + x * phi(x)]),
    "silu": (lambda x: x * sigmoid(x),
             [lambda x: sigmoid(x) * (1 + x * (1 - sigmoid(x)))]),
    "elu": (lambda x: x if x > 0 else mp.expm1(x), [lambda x: mpf(1) if x > 0 else mp.exp(x)]),
    "floor": (mp.floor, [lambda x: mpf(0)]),
    "ceil": (mp.ceil, [lambda x: mpf(0)]),
    "round": (round_half_away, [lambda x: mpf(0)]),
    "hypot": (mp.hypot, [lambda a, b: a / mp.hypot(a, b), lambda a, b: b / mp.hypot(a, b)]),
    "leaky_relu": (lambda x, a: x if x > 0 else a * x,
                   [lambda x, a: mpf(1) if x > 0 else a,
                    lambda x, a: mpf(0) if x > 0 else x]),
    "clamp": (lambda x, lo, hi: min(max(x, lo), hi),
              [lambda x, lo, hi: mpf(1) if lo <= x <= hi else mpf(0),
               lambda x, lo, hi: mpf(1) if x < lo else mpf(0),
               lambda x, lo, hi: mpf(1) if x > hi else mpf(0)]),
}

# The functions of "Formula syntax", so that every row of the table has a reference.
FUNCTIONS.update({
    "sin": (mp.sin, [mp.cos]),
    "cos": (mp.cos, [lambda x: -mp.sin(x)]),
    "tan": (mp.tan, [lambda x: 1 + mp.tan(x) ** 2]),
    "asin": (mp.asin, [lambda x: 1 / mp.sqrt(1 - x * x)]),
    "acos": (mp.acos, [lambda x: -1 / mp.sqrt(1 - x * x)]),
    "atan": (mp.atan, [lambda x: 1 / (1 + x * x)]),
    "sinh": (mp.sinh, [mp.cosh]),
    "cosh": (mp.cosh, [mp.sinh]),
    "tanh": (mp.tanh, [lambda x: 1 - mp.tanh(x) ** 2]),
    "exp": (mp.exp, [mp.exp]),
    "ln": (mp.log, [lambda x: 1 / x]),
    "sqrt": (mp.sqrt, [lambda x: 1 / (2 * mp.sqrt(x))]),
    "abs": (abs, [mp.sign]),
    "sigmoid": (sigmoid, [lambda x: sigmoid(x) * (1 - sigmoid(x))]),
    "softplus": (lambda x: mp.log1p(mp.exp(x)), [sigmoid]),
    "relu": (lambda x: max(x, mpf(0)), [step]),
    "sign": (mp.sign, [lambda x: mpf(0)]),
    "step": (step, [lambda x: mpf(0)]),
    "atan2": (mp.atan2, [lambda y, x: x / (x * x + y * y), lambda y, x: -y / (x * x + y * y)]),
    "min": (min, [lambda a, b: mpf(1) if a <= b else mpf(0),
                  lambda a, b: mpf(0) if a <= b else mpf(1)]),
    "max": (max, [lambda a, b: mpf(1) if a >= b else mpf(0),
                  lambda a, b: mpf(0) if a >= b else mpf(1)]),
})

# Functions whose derivatives are conventions at some points (not checked numerically).
KINKED = {"elu", "floor", "ceil", "round", "leaky_relu", "clamp", "abs", "relu", "sign", "step",
          "min", "max"}

ORDINARY = [-2.5, -1.3, -0.45, 0.3, 0.7, 1.9, 3.25]

# The points of each function: ordinary ones in its domain, then its tails.
POINTS = {
    "erf": ORDINARY + [1e-10, -1e-10, 1e-300, 4.0, 5.9, -5.9, 26.0],
    "erfc": ORDINARY + [1e-10, 4.0, 10.0, 26.0, 26.5, -6.0],
    "log1p": [x for x in ORDINARY if x > -1] + [1e-20, -1e-20, 1e-300, -0.999999, 1e300],
    "expm1": ORDINARY + [1e-20, -1e-20, 1e-300, -40.0, 700.0],
    "log2": [x for x in ORDINARY if x > 0] + [1e-300, 1e300, 1 + 2**-52, 2.2250738585072014e-308],
    "log10": [x for x in ORDINARY if x > 0] + [1e-300, 1e300, 1 + 2**-52],
    "asinh": ORDINARY + [1e-20, -1e-20, 1e10, -1e10, 1e200, 1e300, 1e-300, 1.7e308, -1.7e308],
    "acosh": [1.9, 3.25, 1.05] + [1 + 1e-10, 1 + 2**-52, 1e10, 1e200, 1e300, 1.7e308],
    "atanh": [x for x in ORDINARY if abs(x) < 1] + [1e-20, -1e-20, 1 - 1e-10, -(1 - 1e-10),
                                                    1 - 2**-53, 0.999],
    "cbrt": ORDINARY + [-27.0, 27.0, 1e-300, -1e300, 2.0],
    "gelu": ORDINARY + [-30.0, 30.0, -10.0, -37.5, 1e-20, -1e-20, 6.0],
    "silu": ORDINARY + [-40.0, 40.0, -700.0, 1e-20, -1e-20],
    "elu": ORDINARY + [-1e-12, -1e-300, -40.0, 1e300],
    "floor": ORDINARY + [-3.0, 2.0, 1e300, 0.5, 4503599627370495.5],
    "ceil": ORDINARY + [-3.0, 2.0, -1e300, -0.5, 4503599627370495.5],
    "round": ORDINARY + [2.5, -2.5, 0.5, -0.5, 1.5, 0.49999999999999994, 4503599627370495.5],
    "hypot": [(3.0, 4.0), (-1.3, 0.45), (0.7, -2.5), (1e200, 1e200), (1e-200, 1e-200),
              (1e300, 1.0), (-1e-300, 1e-300), (1e-300, 0.0), (1.0, 1e-20)],
    "leaky_relu": [(-2.5, 0.01), (1.9, 0.01), (0.0, 0.01), (-1.3, 0.2), (0.7, -0.3),
                   (-1e-300, 0.01), (-0.45, 1e20), (0.45, 1e20), (-3.0, 0.0)],
    "sin": ORDINARY + [1e-20, 1e5, 3.141592653589793],
    "cos": ORDINARY + [1e-20, 1e5, 1.5707963267948966],
    "tan": ORDINARY + [1e-20, 1.5707963267948966 - 1e-9],
    "asin": [x for x in ORDINARY if abs(x) < 1] + [1e-20, 1 - 1e-10, -(1 - 1e-10)],
    "acos": [x for x in ORDINARY if abs(x) < 1] + [1e-20, 1 - 1e-10, -(1 - 1e-10)],
    "atan": ORDINARY + [1e-20, 1e10, -1e150],
    "sinh": ORDINARY + [1e-20, -1e-10, 700.0, -700.0],
    "cosh": ORDINARY + [1e-20, 700.0, -700.0],
    "tanh": ORDINARY + [1e-20, 20.0, -20.0, 1e-8],
    "exp": ORDINARY + [1e-20, 700.0, -700.0],
    "ln": [x for x in ORDINARY if x > 0] + [1e-300, 1e300, 1 + 2**-52],
    "sqrt": [x for x in ORDINARY if x > 0] + [1e-300, 1e300, 2.0],
    "abs": ORDINARY + [-1e-300, 1e300],
    "sigmoid": ORDINARY + [-40.0, 40.0, -700.0, 1e-20, 30.0],
    "softplus": ORDINARY + [-40.0, 40.0, -700.0, 1e-20, 700.0, 1e300],
    "relu": ORDINARY + [-1e-300, 1e300],
    "sign": ORDINARY + [-1e-300, 1e300],
    "step": ORDINARY + [-1e-300, 1e300],
    "atan2": [(0.7, 0.3), (-1.3, 0.45), (0.7, -2.5), (1e-20, 1.0), (1.0, 1e-20), (-0.45, -1.3),
              (1e200, 1e200), (3.25, 1.9)],
    "min": [(0.7, 0.3), (-1.3, 0.45), (1e300, -1e300), (2.5, 2.5), (-0.45, 1.9)],
    "max": [(0.7, 0.3), (-1.3, 0.45), (1e300, -1e300), (2.5, 2.5), (-0.45, 1.9)],
    "clamp": [(0.3, 0.0, 1.0), (-0.45, 0.0, 1.0), (1.9, 0.0, 1.0), (0.0, 0.0, 1.0),
              (1.0, 0.0, 1.0), (0.5, 0.5, 0.5), (-2.5, -1.3, 0.7), (1e300, -1e300, 1e299)],
}


def as_tuple(point):
    return point if isinstance(point, tuple) else (point,)


def derivative_check(name, args, value_fn, partials):
    """The analytic partials agree with mpmath's numerical differentiation."""
    if name in KINKED:
        return
    for i, partial in enumerate(partials):
        def along(t, i=i):
            moved = list(args)
            moved[i] = t
            return value_fn(*moved)
        want = partial(*args)
        # 400 digits, so that a derivative far below the value (erf at 26: 1e-294 against
        # 1) still shows; a step relative to the point keeps tiny and huge arguments in the
        # domain
        with mp.workdps(400):
            h = abs(args[i]) * mpf(10) ** -60 if args[i] != 0 else mpf(10) ** -80
            got = mp.diff(along, args[i], h=h)
        if want != 0:
            err = abs(got / want - 1)
        else:
            err = abs(got)
        assert err < mpf(10) ** -15, (name, args, i, want, got)


def number(x):
    """A JSON number for a value rounded once to binary64 (None for no real value)."""
    x = float(x)
    if math.isnan(x):
        return None
    return x


def cases():
    for name, points in POINTS.items():
        value_fn, partials = FUNCTIONS[name]
        for point in points:
            floats = as_tuple(point)
            args = [mpf(a) for a in floats]  # exact: every binary64 is an mpf
            value = value_fn(*args)
            derivatives = [p(*args) for p in partials]
            derivative_check(name, args, value_fn, partials)
            yield {
                "function": name,
                "args": list(floats),
                "value": number(value),
                "partials": [number(d) for d in derivatives],
            }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "functions.jsonl")
    with open(path, "w") as out:
        for case in cases():
            out.write(json.dumps(case) + "\n")


if __name__ == "__main__":
    main()
