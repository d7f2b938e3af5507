//! Python with NumPy: `def NAME(x, y, ...)`, one parameter per free variable, each a
//! float or an array; arrays broadcast, so one call evaluates a whole data set. The stable
//! forms are module-level helpers written with `np.where` over values that cannot overflow.

use super::emit::{Expr, Power, Syntax, ATOM, POWER};
use super::names::Namer;
use super::{group, header, list_of, select_helpers, Language, Unit};
use crate::error::Result;
use crate::graph::Func;
use crate::operators::Constant;

pub(crate) struct Python;

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "np", "math", "value", "grad", "hess", "rows", "_",
];

/// The helpers: the evaluator's kernels (`operators/kernels.rs`) over arrays.
const HELPERS: &[(&str, &str)] = &[
    (
        "cr_sigmoid",
        "def cr_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
    ),
    (
        "cr_softplus",
        "def cr_softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))",
    ),
    (
        "cr_logsumexp",
        "def cr_logsumexp(*xs):
    m = np.max(np.broadcast_arrays(*xs), axis=0)
    s = sum(np.exp(x - m) for x in xs)
    return np.where(np.isfinite(m), m + np.log(s), m)",
    ),
    (
        "cr_erf",
        "def cr_erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)",
    ),
    (
        "cr_erfc",
        "def cr_erfc(x):
    return np.vectorize(math.erfc, otypes=[np.float64])(x)",
    ),
    (
        "cr_gelu",
        "def cr_gelu(x):
    # x*erfc(-x/sqrt(2))/2, with the rounding error of u = -x/sqrt(2) taken back to first
    # order (it would move erfc by 150 ulp at x = -30), as the evaluator does; the error
    # of the product exactly by Dekker's method (split into 26-bit halves), on x clipped
    # where the correction is 0 anyway
    c, c_lo = 0.7071067811865476, -4.833646656726457e-17
    u = -x * c
    a = -np.clip(x, -64.0, 64.0)
    p = a * c

    def split(v):
        hi = v * 134217729.0 - (v * 134217729.0 - v)
        return hi, v - hi

    (a_hi, a_lo), (c_hi, c_lo2) = split(a), split(c)
    delta = ((a_hi * c_hi - p) + a_hi * c_lo2 + a_lo * c_hi) + a_lo * c_lo2 + a * c_lo
    return x * 0.5 * (cr_erfc(u) - delta * 1.1283791670955126 * np.exp(-p * p))",
    ),
    (
        "cr_silu",
        "def cr_silu(x):
    return x * cr_sigmoid(x)",
    ),
    (
        "cr_elu",
        "def cr_elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))",
    ),
    (
        "cr_step",
        "def cr_step(x):
    return np.where(np.isnan(x), x, np.where(x > 0, 1.0, 0.0))",
    ),
    (
        "cr_round",
        "def cr_round(x):
    r = np.trunc(x)
    return np.where(np.abs(x - r) >= 0.5, r + np.sign(x), r)",
    ),
    (
        "cr_min",
        "def cr_min(a, b):
    return np.minimum(a, b)",
    ),
    (
        "cr_max",
        "def cr_max(a, b):
    return np.maximum(a, b)",
    ),
    (
        "cr_leaky_relu",
        "def cr_leaky_relu(x, a):
    return np.where(x > 0, x, a * x)",
    ),
    (
        "cr_clamp",
        "def cr_clamp(x, lo, hi):
    return np.where(lo > hi, np.nan, np.minimum(np.maximum(x, lo), hi))",
    ),
];

/// The arguments as float arrays of one shape.
const ARRAYS: &str = "def cr_arrays(*args):
    \"\"\"The arguments as float arrays broadcast to one shape: the rows.\"\"\"
    return np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))";

/// Helpers that call other helpers.
const NEEDS: &[(&str, &str)] = &[("cr_silu", "cr_sigmoid"), ("cr_gelu", "cr_erfc")];

impl Syntax for Python {
    fn is_reserved(&self, name: &str) -> bool {
        KEYWORDS.contains(&name) || name.starts_with("cr_") || name.starts_with("__")
    }

    fn number(&self, v: f64) -> String {
        if v.is_nan() {
            "np.nan".into()
        } else if v.is_infinite() {
            if v > 0.0 { "np.inf" } else { "-np.inf" }.into()
        } else {
            format!("{v:?}")
        }
    }

    fn constant(&self, c: Constant) -> String {
        match c {
            Constant::Pi => "np.pi".into(),
            Constant::E => "np.e".into(),
        }
    }

    fn func(&self, f: Func) -> String {
        f.row().code.python.to_string()
    }

    fn power(&self, p: Power) -> (&'static str, u8) {
        match p {
            Power::Square => ("$0 ** 2", POWER),
            Power::Powi => ("$0 ** $1", POWER),
            Power::Powf => ("np.power($0, $1)", ATOM),
        }
    }

    fn logsumexp(&self, args: &[Expr]) -> Expr {
        let texts: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
        Expr::new(format!("cr_logsumexp({})", texts.join(", ")), ATOM)
    }
}

impl Language for Python {
    fn namer(&self, function: &str) -> Namer {
        Namer::new(|n| Python.is_reserved(n), &[function])
    }

    fn write(&self, unit: &Unit) -> Result<String> {
        Ok(write(unit))
    }
}

fn write(unit: &Unit) -> String {
    let p = &unit.program;
    let n = unit.wrt.len();
    let mut out = String::new();
    for line in header(unit) {
        out.push_str(&format!("# {line}\n"));
    }
    let params: Vec<&str> = unit.inputs.iter().map(|(_, id)| id.as_str()).collect();
    let arguments = list_of(unit.inputs.iter().map(|(name, id)| (group(name), id.clone())));
    out.push_str(&format!(
        "# Arguments: {arguments} (the free variables, in order of first appearance), each a float\n\
         # or a NumPy array; arrays broadcast, so one call evaluates many rows.\n"
    ));
    let grad = list_of(unit.wrt.iter().map(|v| (group(v), format!("d/d{v}"))));
    let hess = if unit.options.hessian { ", hess" } else { "" };
    out.push_str(&format!(
        "# Returns (value, grad{hess}), each broadcast to the rows: grad = {grad}"
    ));
    if unit.options.hessian {
        out.push_str(&format!(",\n# hess[i][j] = d2/d(grad i)d(grad j), {n} x {n}"));
    }
    out.push('\n');
    let helpers: Vec<&str> =
        select_helpers(&p.helpers, HELPERS, NEEDS).into_iter().map(|(_, code)| code).collect();
    if helpers.iter().any(|code| code.contains("math.")) {
        out.push_str("import math\n\n");
    }
    out.push_str("import numpy as np\n\n");
    if !params.is_empty() {
        out.push_str(&format!("\n{ARRAYS}\n\n"));
    }
    for code in helpers {
        out.push_str(&format!("\n{code}\n\n"));
    }
    out.push_str(&format!("\ndef {}({}):\n", unit.options.name, params.join(", ")));
    out.push_str(
        "    \"\"\"Value and gradient of the formula above, vectorised over rows.\"\"\"\n",
    );
    match params.len() {
        0 => out.push_str("    rows = ()\n"),
        k => {
            let targets = if k == 1 { format!("{},", params[0]) } else { params.join(", ") };
            out.push_str(&format!("    {targets} = cr_arrays({})\n", params.join(", ")));
            out.push_str(&format!("    rows = np.shape({})\n", params[0]));
        }
    }
    out.push_str("    with np.errstate(all=\"ignore\"):\n");
    for (id, e) in &p.locals {
        let text = if e.kind == super::emit::Kind::Number {
            format!("np.float64({})", e.text)
        } else {
            e.text.clone()
        };
        out.push_str(&format!("        {id} = {text}\n"));
    }
    out.push_str(&format!("        value = {}\n", p.outputs[0].text));
    out.push_str("        grad = [\n");
    for e in &p.outputs[1..1 + n] {
        out.push_str(&format!("            {},\n", e.text));
    }
    out.push_str("        ]\n");
    if unit.options.hessian {
        out.push_str("        hess = [\n");
        for row in p.outputs[1 + n..].chunks(n.max(1)) {
            let row: Vec<&str> = row.iter().map(|e| e.text.as_str()).collect();
            out.push_str(&format!("            [{}],\n", row.join(", ")));
        }
        out.push_str("        ]\n");
    }
    out.push_str("    value = np.broadcast_to(value, rows)\n");
    out.push_str("    grad = [np.broadcast_to(d, rows) for d in grad]\n");
    if unit.options.hessian {
        out.push_str(
            "    hess = [[np.broadcast_to(entry, rows) for entry in line] for line in hess]\n",
        );
        out.push_str("    return value, grad, hess\n");
    } else {
        out.push_str("    return value, grad\n");
    }
    out
}
