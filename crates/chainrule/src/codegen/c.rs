//! C99 with `math.h` only: `double NAME(const double *input, double *grad)`. The stable
//! forms are `static inline` helpers, each behind its own include guard, so that several
//! generated files can go into one translation unit.

use super::emit::{Expr, Power, Syntax, ATOM};
use super::names::Namer;
use super::{select_helpers, slice_header, Language, Unit};
use crate::error::Result;
use crate::graph::Func;
use crate::operators::Constant;

pub(crate) struct C;

const KEYWORDS: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "_Bool",
    "_Complex",
    "_Imaginary",
    // math.h names the generated code calls or could meet
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "exp",
    "expm1",
    "log",
    "log1p",
    "log2",
    "log10",
    "sqrt",
    "cbrt",
    "fabs",
    "erf",
    "erfc",
    "floor",
    "ceil",
    "round",
    "hypot",
    "pow",
    "fma",
    "fmax",
    "fmin",
    "isnan",
    "isinf",
    "isfinite",
    "NAN",
    "INFINITY",
    "HUGE_VAL",
    "y0",
    "y1",
    "yn",
    "j0",
    "j1",
    "jn",
    "gamma",
    "lgamma",
    "tgamma",
    "exp2",
    "trunc",
    "main",
];

/// The helpers, copied from the evaluator's kernels (`operators/kernels.rs`).
const HELPERS: &[(&str, &str)] = &[
    (
        "cr_sigmoid",
        "static inline double cr_sigmoid(double x) {
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    double z = exp(x);
    return z / (1.0 + z);
}",
    ),
    (
        "cr_softplus",
        "static inline double cr_softplus(double x) {
    return isnan(x) ? x : fmax(x, 0.0) + log1p(exp(-fabs(x)));
}",
    ),
    (
        "cr_logsumexp",
        "static inline double cr_logsumexp(int n, const double *xs) {
    double m = -INFINITY, s = 0.0;
    for (int i = 0; i < n; i++) {
        if (xs[i] > m || isnan(xs[i])) {
            m = xs[i];
        }
    }
    if (isnan(m) || isinf(m)) {
        return m;
    }
    for (int i = 0; i < n; i++) {
        s += exp(xs[i] - m);
    }
    return m + log(s);
}",
    ),
    (
        "cr_relu",
        "static inline double cr_relu(double x) {
    return x > 0.0 || isnan(x) ? x : 0.0;
}",
    ),
    (
        "cr_gelu",
        "static inline double cr_gelu(double x) {
    /* x*erfc(-x/sqrt(2))/2, with the rounding error of -x/sqrt(2) taken back to first
       order (it would move erfc by 150 ulp at x = -30) */
    const double frac_1_sqrt_2 = 0.7071067811865476, frac_1_sqrt_2_lo = -4.833646656726457e-17;
    const double frac_2_sqrt_pi = 1.1283791670955126;
    double u = -x * frac_1_sqrt_2;
    if (!isfinite(u)) {
        return x * 0.5 * erfc(u);
    }
    double delta = fma(-x, frac_1_sqrt_2, -u) - x * frac_1_sqrt_2_lo;
    return x * 0.5 * (erfc(u) - delta * frac_2_sqrt_pi * exp(-u * u));
}",
    ),
    (
        "cr_silu",
        "static inline double cr_silu(double x) {
    return x * cr_sigmoid(x);
}",
    ),
    (
        "cr_elu",
        "static inline double cr_elu(double x) {
    return x > 0.0 ? x : expm1(x);
}",
    ),
    (
        "cr_sign",
        "static inline double cr_sign(double x) {
    return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : x * 0.0;
}",
    ),
    (
        "cr_step",
        "static inline double cr_step(double x) {
    return x > 0.0 ? 1.0 : isnan(x) ? x : 0.0;
}",
    ),
    (
        "cr_min",
        "static inline double cr_min(double a, double b) {
    return isnan(a) || isnan(b) ? NAN : a <= b ? a : b;
}",
    ),
    (
        "cr_max",
        "static inline double cr_max(double a, double b) {
    return isnan(a) || isnan(b) ? NAN : a >= b ? a : b;
}",
    ),
    (
        "cr_leaky_relu",
        "static inline double cr_leaky_relu(double x, double a) {
    return x > 0.0 ? x : a * x;
}",
    ),
    (
        "cr_clamp",
        "static inline double cr_clamp(double x, double lo, double hi) {
    return lo > hi ? NAN : cr_min(cr_max(x, lo), hi);
}",
    ),
];

/// Helpers that call other helpers.
const NEEDS: &[(&str, &str)] =
    &[("cr_silu", "cr_sigmoid"), ("cr_clamp", "cr_min"), ("cr_clamp", "cr_max")];

impl Syntax for C {
    fn is_reserved(&self, name: &str) -> bool {
        KEYWORDS.contains(&name) || name.starts_with("cr_") || name.starts_with("__")
    }

    fn number(&self, v: f64) -> String {
        if v.is_nan() {
            "NAN".into()
        } else if v.is_infinite() {
            if v > 0.0 { "INFINITY" } else { "-INFINITY" }.into()
        } else {
            format!("{v:?}")
        }
    }

    fn constant(&self, c: Constant) -> String {
        format!("{:?}", c.value())
    }

    fn func(&self, f: Func) -> String {
        f.row().code.c.to_string()
    }

    fn power(&self, p: Power) -> (&'static str, u8) {
        match p {
            Power::Square => ("pow($0, 2)", ATOM),
            Power::Powi | Power::Powf => ("pow($0, $1)", ATOM),
        }
    }

    fn logsumexp(&self, args: &[Expr]) -> Expr {
        let texts: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
        let call =
            format!("cr_logsumexp({}, (const double[]){{{}}})", args.len(), texts.join(", "));
        Expr::new(call, ATOM)
    }
}

impl Language for C {
    fn namer(&self, function: &str) -> Namer {
        Namer::new(|n| C.is_reserved(n), &[function, "input", "grad", "hess"])
    }

    fn write(&self, unit: &Unit) -> Result<String> {
        Ok(write(unit))
    }
}

fn write(unit: &Unit) -> String {
    let p = &unit.program;
    let n = unit.wrt.len();
    let mut out = slice_header(unit);
    out.push_str("#include <math.h>\n\n");
    for (name, code) in select_helpers(&p.helpers, HELPERS, NEEDS) {
        let guard = format!("CHAINRULE_{}", name.to_uppercase());
        out.push_str(&format!("#ifndef {guard}\n#define {guard}\n{code}\n#endif\n\n"));
    }
    let hess = if unit.options.hessian { ", double *hess" } else { "" };
    out.push_str(&format!(
        "double {}(const double *input, double *grad{hess}) {{\n",
        unit.options.name
    ));
    if p.inputs.is_empty() {
        out.push_str("    (void)input;\n");
    }
    if n == 0 {
        out.push_str("    (void)grad;\n");
    }
    for (i, id) in &p.inputs {
        out.push_str(&format!("    const double {id} = input[{i}];\n"));
    }
    for (id, e) in &p.locals {
        out.push_str(&format!("    const double {id} = {};\n", e.text));
    }
    for (i, e) in p.outputs[1..1 + n].iter().enumerate() {
        out.push_str(&format!("    grad[{i}] = {};\n", e.text));
    }
    for (i, e) in p.outputs[1 + n..].iter().enumerate() {
        out.push_str(&format!("    hess[{i}] = {};\n", e.text));
    }
    out.push_str(&format!("    return {};\n}}\n", p.outputs[0].text));
    out
}
