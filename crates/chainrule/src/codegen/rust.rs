//! Rust: `pub fn NAME(input: &[f64], grad: &mut [f64]) -> f64` over `f64`, no
//! dependencies, no `unsafe`, nothing but outer items (so the file can be `include!`d).
//! The stable forms are small functions nested in the generated one, so two generated
//! files can share a module.

use super::emit::{Expr, Power, Program, Syntax, ATOM};
use super::names::Namer;
use super::{header, list, Language, Unit};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{walk, Func, Op};
use crate::operators::Constant;
use crate::Formula;

pub(crate) struct Rust;

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen", "union", "_", "f64",
    "std", "core",
];

/// The standard library's constants, which clippy wants instead of their digits.
const CONSTS: &[(&str, f64)] = {
    use std::f64::consts::*;
    &[
        ("PI", PI),
        ("E", E),
        ("TAU", TAU),
        ("FRAC_PI_2", FRAC_PI_2),
        ("FRAC_PI_3", FRAC_PI_3),
        ("FRAC_PI_4", FRAC_PI_4),
        ("FRAC_PI_6", FRAC_PI_6),
        ("FRAC_PI_8", FRAC_PI_8),
        ("FRAC_1_PI", FRAC_1_PI),
        ("FRAC_2_PI", FRAC_2_PI),
        ("FRAC_2_SQRT_PI", FRAC_2_SQRT_PI),
        ("SQRT_2", SQRT_2),
        ("FRAC_1_SQRT_2", FRAC_1_SQRT_2),
        ("LN_2", LN_2),
        ("LN_10", LN_10),
        ("LOG2_E", LOG2_E),
        ("LOG10_E", LOG10_E),
        ("LOG2_10", LOG2_10),
        ("LOG10_2", LOG10_2),
    ]
};

/// The helpers, copied from the evaluator's kernels (`operators/kernels.rs`).
const HELPERS: &[(&str, &str)] = &[
    (
        "cr_sigmoid",
        "fn cr_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let z = x.exp();
        z / (1.0 + z)
    }
}",
    ),
    (
        "cr_softplus",
        "fn cr_softplus(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}",
    ),
    (
        "cr_logsumexp",
        "fn cr_logsumexp(xs: &[f64]) -> f64 {
    let m = xs.iter().fold(f64::NEG_INFINITY, |m, &x| if x > m || x.is_nan() { x } else { m });
    if m.is_nan() || m.is_infinite() {
        return m;
    }
    m + xs.iter().map(|&x| (x - m).exp()).sum::<f64>().ln()
}",
    ),
    (
        "cr_relu",
        "fn cr_relu(x: f64) -> f64 {
    if x > 0.0 || x.is_nan() {
        x
    } else {
        0.0
    }
}",
    ),
    (
        "cr_silu",
        "fn cr_silu(x: f64) -> f64 {
    x * cr_sigmoid(x)
}",
    ),
    (
        "cr_elu",
        "fn cr_elu(x: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        x.exp_m1()
    }
}",
    ),
    (
        "cr_sign",
        "fn cr_sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x * 0.0
    }
}",
    ),
    (
        "cr_step",
        "fn cr_step(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x.is_nan() {
        x
    } else {
        0.0
    }
}",
    ),
    (
        "cr_min",
        "fn cr_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a <= b {
        a
    } else {
        b
    }
}",
    ),
    (
        "cr_max",
        "fn cr_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a >= b {
        a
    } else {
        b
    }
}",
    ),
    (
        "cr_leaky_relu",
        "fn cr_leaky_relu(x: f64, a: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        a * x
    }
}",
    ),
    (
        "cr_clamp",
        "fn cr_clamp(x: f64, lo: f64, hi: f64) -> f64 {
    if lo > hi {
        return f64::NAN;
    }
    cr_min(cr_max(x, lo), hi)
}",
    ),
];

/// Helpers that call other helpers.
const NEEDS: &[(&str, &str)] =
    &[("cr_silu", "cr_sigmoid"), ("cr_clamp", "cr_min"), ("cr_clamp", "cr_max")];

impl Syntax for Rust {
    fn is_reserved(&self, name: &str) -> bool {
        KEYWORDS.contains(&name) || name.starts_with("cr_")
    }

    fn number(&self, v: f64) -> String {
        if v.is_nan() {
            return "f64::NAN".into();
        }
        if v.is_infinite() {
            return if v > 0.0 { "f64::INFINITY" } else { "f64::NEG_INFINITY" }.into();
        }
        let sign = if v < 0.0 { "-" } else { "" };
        match CONSTS.iter().find(|(_, c)| *c == v.abs()) {
            Some((name, _)) => format!("{sign}std::f64::consts::{name}"),
            None => format!("{v:?}"),
        }
    }

    fn typed_number(&self, text: &str) -> String {
        if text.bytes().all(|b| b.is_ascii_digit() || b".-e".contains(&b)) {
            format!("{text}_f64")
        } else {
            text.to_string()
        }
    }

    fn constant(&self, c: Constant) -> String {
        match c {
            Constant::Pi => "std::f64::consts::PI".into(),
            Constant::E => "std::f64::consts::E".into(),
        }
    }

    fn func(&self, f: Func) -> String {
        f.row().code.rust.to_string()
    }

    fn power(&self, p: Power) -> (&'static str, u8) {
        match p {
            Power::Square => ("$0.powi(2)", ATOM),
            Power::Powi => ("$0.powi($1)", ATOM),
            Power::Powf => ("$0.powf($1)", ATOM),
        }
    }

    fn logsumexp(&self, args: &[Expr]) -> Expr {
        let args: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
        Expr::new(format!("cr_logsumexp(&[{}])", args.join(", ")), ATOM)
    }
}

impl Language for Rust {
    /// Rust's standard library has no error function.
    fn check(&self, formula: &Formula) -> Result<()> {
        let g = formula.graph();
        for n in walk::reachable(g, &[formula.root()]) {
            if let Op::Func(f @ (Func::Erf | Func::Erfc | Func::Gelu)) = g.op(n) {
                let message = format!(
                    "`{}` has no Rust form without dependencies (the standard library has no \
                     erf); generate C, which has it in math.h",
                    f.name()
                );
                return Err(Error::new(ErrorKind::Unsupported(message)));
            }
        }
        Ok(())
    }

    fn namer(&self, function: &str) -> Namer {
        Namer::new(|n| Rust.is_reserved(n), &[function, "input", "grad", "hess"])
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
        out.push_str(&format!("// {line}\n"));
    }
    let inputs = list(unit.inputs.iter().map(|(name, _)| name));
    let grad = list(unit.wrt.iter().map(|v| format!("d/d{v}")));
    out.push_str(&format!(
        "// input: {inputs} (the free variables, in order of first appearance)\n"
    ));
    out.push_str(&format!("// grad:  {grad}\n"));
    if unit.options.hessian {
        out.push_str(&format!(
            "// hess:  {n} x {n}, row-major: hess[i*{n} + j] = d2/d(grad i)d(grad j)\n"
        ));
    }
    out.push_str("// Returns the value.\n");
    let snake = |s: &str| !s.bytes().any(|b| b.is_ascii_uppercase());
    let names = p.inputs.iter().map(|(_, id)| id).chain(p.locals.iter().map(|(id, _)| id));
    if !snake(&unit.options.name) || !names.into_iter().all(|id| snake(id)) {
        out.push_str("#[allow(non_snake_case)]\n");
    }
    let hess = if unit.options.hessian { ", hess: &mut [f64]" } else { "" };
    out.push_str(&format!(
        "pub fn {}(input: &[f64], grad: &mut [f64]{hess}) -> f64 {{\n",
        unit.options.name
    ));
    for helper in helpers(p) {
        for line in helper.lines() {
            out.push_str(&format!("    {line}\n"));
        }
        out.push('\n');
    }
    let k = unit.inputs.len();
    let used_inputs = !p.inputs.is_empty();
    match (used_inputs, n > 0) {
        (true, true) => {
            out.push_str(&format!("    let (input, grad) = (&input[..{k}], &mut grad[..{n}]);\n"))
        }
        (true, false) => {
            out.push_str(&format!("    let input = &input[..{k}];\n    let _ = grad;\n"))
        }
        (false, true) => {
            out.push_str(&format!("    let _ = input;\n    let grad = &mut grad[..{n}];\n"))
        }
        (false, false) => out.push_str("    let _ = (input, grad);\n"),
    }
    if unit.options.hessian {
        out.push_str(&format!("    let hess = &mut hess[..{}];\n", n * n));
    }
    for (i, id) in &p.inputs {
        out.push_str(&format!("    let {id} = input[{i}];\n"));
    }
    for (id, e) in &p.locals {
        out.push_str(&format!("    let {id} = {};\n", e.text));
    }
    for (i, e) in p.outputs[1..1 + n].iter().enumerate() {
        out.push_str(&format!("    grad[{i}] = {};\n", e.text));
    }
    for (i, e) in p.outputs[1 + n..].iter().enumerate() {
        out.push_str(&format!("    hess[{i}] = {};\n", e.text));
    }
    out.push_str(&format!("    {}\n}}\n", p.outputs[0].text));
    out
}

/// The helpers' source, with the helpers they call, in table order.
fn helpers(p: &Program) -> Vec<&'static str> {
    let mut wanted = p.helpers.clone();
    for (helper, needs) in NEEDS {
        if wanted.contains(*helper) {
            wanted.insert(needs.to_string());
        }
    }
    HELPERS.iter().filter(|(name, _)| wanted.contains(*name)).map(|(_, code)| *code).collect()
}
