//! Rust: `pub fn NAME(input: &[f64], grad: &mut [f64]) -> f64` over `f64`, no
//! dependencies, no `unsafe`, nothing but outer items (so the file can be `include!`d).
//! The stable forms are small functions nested in the generated one, so two generated
//! files can share a module; so are erf and erfc (ported from the libm crate, as the
//! evaluator computes them), which the standard library lacks.

use super::emit::{Expr, Power, Syntax, ATOM};
use super::names::Namer;
use super::{select_helpers, slice_header, Language, Unit};
use crate::error::Result;
use crate::graph::Func;
use crate::operators::Constant;

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

/// The helpers, copied from the evaluator's kernels (`operators/kernels.rs`); erf and erfc
/// are the libm crate's, which the evaluator calls (the standard library has none).
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
        "cr_erf_exp",
        r"// cr_erf_exp, cr_erf_ratio, cr_erfc_tail and cr_erf or cr_erfc: the evaluator's erf and
// erfc (the same operations, so the same bits), from the libm crate (MIT license), a port
// of musl's, which are FreeBSD's e_exp.c and s_erf.c:
//   Copyright (C) 1993, 2004 by Sun Microsystems, Inc. All rights reserved.
//   Developed at SunPro, a Sun Microsystems, Inc. business.
//   Permission to use, copy, modify, and distribute this software is freely granted,
//   provided that this notice is preserved.
fn cr_erf_exp(x: f64) -> f64 {
    // e^x as libm computes it (std's exp can differ in the last bits)
    const LN2HI: f64 = 0.6931471803691238;
    const LN2LO: f64 = 1.9082149292705877e-10;
    const INVLN2: f64 = std::f64::consts::LOG2_E; // 1/ln 2
    const P1: f64 = 0.16666666666666602;
    const P2: f64 = -0.0027777777777015593;
    const P3: f64 = 6.613756321437934e-5;
    const P4: f64 = -1.6533902205465252e-6;
    const P5: f64 = 4.1381367970572385e-8;
    let hx = (x.to_bits() >> 32) as u32 & 0x7fff_ffff;
    let sign = (x.to_bits() >> 63) as i32;
    if hx >= 0x4086_232b {
        // |x| >= 708.39...
        if x.is_nan() {
            return x;
        }
        if x > 709.782712893384 {
            return x * f64::from_bits(0x7fe0_0000_0000_0000); // 2^1023: overflows
        }
        if x < -745.1332191019411 {
            return 0.0;
        }
    }
    // x = k*ln2 + r, |r| <= ln2/2, r = hi - lo
    let (hi, lo, k) = if hx > 0x3fd6_2e42 {
        let k = if hx >= 0x3ff0_a2b2 {
            (INVLN2 * x + [0.5, -0.5][sign as usize]) as i32
        } else {
            1 - sign - sign
        };
        (x - k as f64 * LN2HI, k as f64 * LN2LO, k)
    } else if hx > 0x3e30_0000 {
        (x, 0.0, 0)
    } else {
        return 1.0 + x;
    };
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // y * 2^k, through 2^-969 first where 2^k is below the normal numbers
    let (y, k) = match k {
        0 => return y,
        k if k > 1023 => (y * f64::from_bits(0x7fe0_0000_0000_0000), k - 1023),
        k if k < -1022 => (y * f64::from_bits(0x0360_0000_0000_0000), k + 969),
        k => (y, k),
    };
    y * f64::from_bits(((0x3ff + k) as u64) << 52)
}",
    ),
    (
        "cr_erf_ratio",
        r"fn cr_erf_ratio(x: f64) -> f64 {
    // (erf(x) - x)/x for |x| < 0.84375
    const PP0: f64 = 0.12837916709551256;
    const PP1: f64 = -0.3250421072470015;
    const PP2: f64 = -0.02848174957559851;
    const PP3: f64 = -0.005770270296489442;
    const PP4: f64 = -2.3763016656650163e-5;
    const QQ1: f64 = 0.39791722395915535;
    const QQ2: f64 = 0.0650222499887673;
    const QQ3: f64 = 0.005081306281875766;
    const QQ4: f64 = 0.00013249473800432164;
    const QQ5: f64 = -3.960228278775368e-6;
    let z = x * x;
    let r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
    let s = 1.0 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
    r / s
}",
    ),
    (
        "cr_erfc_tail",
        r"fn cr_erfc_tail(ix: u32, x: f64) -> f64 {
    // erfc(|x|) for 0.84375 <= |x| < 28; ix: the high word of |x|
    const ERX: f64 = 0.8450629115104675;
    const PA: [f64; 7] = [
        -0.0023621185607526594, 0.41485611868374833, -0.3722078760357013, 0.31834661990116175,
        -0.11089469428239668, 0.035478304325618236, -0.002166375594868791,
    ];
    const QA: [f64; 7] = [
        1.0, 0.10642088040084423, 0.540397917702171, 0.07182865441419627, 0.12617121980876164,
        0.01363708391202905, 0.011984499846799107,
    ];
    const RA: [f64; 8] = [
        -0.009864944034847148, -0.6938585727071818, -10.558626225323291, -62.375332450326006,
        -162.39666946257347, -184.60509290671104, -81.2874355063066, -9.814329344169145,
    ];
    const SA: [f64; 9] = [
        1.0, 19.651271667439257, 137.65775414351904, 434.56587747522923, 645.3872717332679,
        429.00814002756783, 108.63500554177944, 6.570249770319282, -0.0604244152148581,
    ];
    const RB: [f64; 7] = [
        -0.0098649429247001, -0.799283237680523, -17.757954917754752, -160.63638485582192,
        -637.5664433683896, -1025.0951316110772, -483.5191916086514,
    ];
    const SB: [f64; 8] = [
        1.0, 30.33806074348246, 325.7925129965739, 1536.729586084437, 3199.8582195085955,
        2553.0504064331644, 474.52854120695537, -22.44095244658582,
    ];
    // c[0] + s*(c[1] + s*(c[2] + ...))
    let horner = |c: &[f64], s: f64| c.iter().rev().fold(0.0, |acc, &k| k + s * acc);
    let x = x.abs();
    if ix < 0x3ff4_0000 {
        // |x| < 1.25
        let s = x - 1.0;
        return 1.0 - ERX - horner(&PA, s) / horner(&QA, s);
    }
    let s = 1.0 / (x * x);
    let (r, big_s) = if ix < 0x4006_db6d {
        // |x| < 1/0.35
        (horner(&RA, s), horner(&SA, s))
    } else {
        (horner(&RB, s), horner(&SB, s))
    };
    let z = f64::from_bits(x.to_bits() & 0xffff_ffff_0000_0000);
    cr_erf_exp(-z * z - 0.5625) * cr_erf_exp((z - x) * (z + x) + r / big_s) / x
}",
    ),
    (
        "cr_erf",
        r"fn cr_erf(x: f64) -> f64 {
    let ix = (x.to_bits() >> 32) as u32 & 0x7fff_ffff;
    let sign = if x.is_sign_negative() { 1.0 } else { 0.0 };
    if ix >= 0x7ff0_0000 {
        // erf(NaN) = NaN, erf(±inf) = ±1
        return 1.0 - 2.0 * sign + 1.0 / x;
    }
    if ix < 0x3feb_0000 {
        // |x| < 0.84375
        if ix < 0x3e30_0000 {
            // |x| < 2^-28
            return 0.125 * (8.0 * x + 1.0270333367641007 * x);
        }
        return x + x * cr_erf_ratio(x);
    }
    let y = if ix < 0x4018_0000 {
        // |x| < 6
        1.0 - cr_erfc_tail(ix, x)
    } else {
        1.0 - f64::MIN_POSITIVE
    };
    if sign != 0.0 {
        -y
    } else {
        y
    }
}",
    ),
    (
        "cr_erfc",
        r"fn cr_erfc(x: f64) -> f64 {
    let ix = (x.to_bits() >> 32) as u32 & 0x7fff_ffff;
    let negative = x.is_sign_negative();
    if ix >= 0x7ff0_0000 {
        // erfc(NaN) = NaN, erfc(+inf) = 0, erfc(-inf) = 2
        return if negative { 2.0 } else { 0.0 } + 1.0 / x;
    }
    if ix < 0x3feb_0000 {
        // |x| < 0.84375
        if ix < 0x3c70_0000 {
            // |x| < 2^-56
            return 1.0 - x;
        }
        let y = cr_erf_ratio(x);
        if negative || ix < 0x3fd0_0000 {
            // x < 1/4
            return 1.0 - (x + x * y);
        }
        return 0.5 - (x - 0.5 + x * y);
    }
    if ix < 0x403c_0000 {
        // |x| < 28
        let y = cr_erfc_tail(ix, x);
        return if negative { 2.0 - y } else { y };
    }
    if negative {
        2.0 - f64::MIN_POSITIVE
    } else {
        f64::MIN_POSITIVE * f64::MIN_POSITIVE
    }
}",
    ),
    (
        "cr_gelu",
        r"fn cr_gelu(x: f64) -> f64 {
    // x*erfc(-x/sqrt(2))/2, with the rounding error of -x/sqrt(2) taken back to first
    // order (it would move erfc by 150 ulp at x = -30)
    use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};
    const FRAC_1_SQRT_2_LO: f64 = -4.833646656726457e-17;
    let u = -x * FRAC_1_SQRT_2;
    if !u.is_finite() {
        return x * 0.5 * cr_erfc(u);
    }
    let delta = (-x).mul_add(FRAC_1_SQRT_2, -u) - x * FRAC_1_SQRT_2_LO;
    x * 0.5 * (cr_erfc(u) - delta * FRAC_2_SQRT_PI * (-u * u).exp())
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

/// Helpers that call other helpers, callers before the helpers they call.
const NEEDS: &[(&str, &str)] = &[
    ("cr_silu", "cr_sigmoid"),
    ("cr_clamp", "cr_min"),
    ("cr_clamp", "cr_max"),
    ("cr_gelu", "cr_erfc"),
    ("cr_erf", "cr_erf_ratio"),
    ("cr_erf", "cr_erfc_tail"),
    ("cr_erfc", "cr_erf_ratio"),
    ("cr_erfc", "cr_erfc_tail"),
    ("cr_erfc_tail", "cr_erf_exp"),
];

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
    let mut out = slice_header(unit);
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
    for (_, helper) in select_helpers(&p.helpers, HELPERS, NEEDS) {
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
