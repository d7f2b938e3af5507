//! Helpers shared by the integration tests: the corpus (copied from the shared SymPy
//! corpus into tests/cases) and numeric comparison.
#![allow(dead_code)]

use chainrule::{diff, eval, Formula, NodeId, VarId};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

/// Every case of tests/cases/corpus.jsonl.
pub fn corpus() -> Vec<Value> {
    let text = include_str!("../cases/corpus.jsonl");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The cases of one kind.
pub fn cases(kind: &str) -> Vec<Value> {
    corpus().into_iter().filter(|c| c["kind"] == kind).collect()
}

/// |got - want| <= tol * max(1, |want|)
pub fn close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol * want.abs().max(1.0)
}

/// The variables of a corpus case, in order of first appearance.
pub fn var_names(case: &Value) -> Vec<String> {
    case["vars"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// Names and values of a corpus point, in the case's variable order.
pub fn point(case: &Value, at: &Value) -> (Vec<String>, Vec<f64>) {
    let names = var_names(case);
    let values = names.iter().map(|n| at[n].as_f64().unwrap()).collect();
    (names, values)
}

/// The value of `roots` of `f` at a point (`names` the variables `values` are for).
pub fn eval_roots(f: &Formula, roots: &[NodeId], names: &[String], values: &[f64]) -> Vec<f64> {
    let ids: Option<Vec<VarId>> = names.iter().map(|n| f.graph().var_id(n)).collect();
    match ids {
        Some(ids) => eval::evaluate(f.graph(), roots, &ids, values).unwrap(),
        None => {
            // Some names are not in the graph: enter them, in a copy.
            let mut f = f.clone();
            let ids = f.ids(names);
            eval::evaluate(f.graph(), roots, &ids, values).unwrap()
        }
    }
}

/// The value of formula text at a point (names it does not use are ignored).
pub fn eval_text(text: &str, names: &[String], values: &[f64]) -> f64 {
    let f = Formula::parse(text)
        .unwrap_or_else(|e| panic!("{text:?} does not parse: {}", e.render(text)));
    eval_roots(&f, &[f.root()], names, values)[0]
}

/// Central finite difference of `f` in variable `i`, with a step scaled to the point.
pub fn finite_difference(f: &Formula, names: &[String], values: &[f64], i: usize) -> f64 {
    finite_difference_with_step(f, names, values, i, 1e-5)
}

/// Central finite difference with step `step * max(1, |x_i|)`.
pub fn finite_difference_with_step(
    f: &Formula,
    names: &[String],
    values: &[f64],
    i: usize,
    step: f64,
) -> f64 {
    let h = step * values[i].abs().max(1.0);
    let mut plus = values.to_vec();
    let mut minus = values.to_vec();
    plus[i] += h;
    minus[i] -= h;
    let fp = eval_roots(f, &[f.root()], names, &plus)[0];
    let fm = eval_roots(f, &[f.root()], names, &minus)[0];
    (fp - fm) / (2.0 * h)
}

/// The unsimplified gradient of `f` with respect to `names`.
pub fn raw_gradient(f: &mut Formula, names: &[String]) -> Vec<NodeId> {
    let vars: Vec<NodeId> = names.iter().map(|n| f.var(n)).collect();
    let root = f.root();
    diff::grad(f.graph_mut(), root, &vars).unwrap()
}

/// Runs the `chainrule` binary in the crate's folder with `args`; returns the exit status,
/// standard output and standard error.
pub fn chainrule(args: &[&str]) -> (i32, String, String) {
    chainrule_with_stdin(args, "")
}

/// Like [`chainrule`], with `stdin` on standard input.
pub fn chainrule_with_stdin(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_string();
    // A separate writer, so that a large input cannot deadlock against a full output pipe.
    let writer = std::thread::spawn(move || pipe.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

/// One line of tests/cases/functions.jsonl: a function of SPEC.md "More functions" at exact
/// binary64 arguments, with its value and partial derivatives from mpmath at 50 digits.
pub struct Case {
    /// The function's name.
    pub function: String,
    /// The arguments.
    pub args: Vec<f64>,
    /// `None` where the reference has no real value.
    pub value: Option<f64>,
    /// d f / d args[i].
    pub partials: Vec<Option<f64>>,
}

/// Every case of tests/cases/functions.jsonl (see tests/cases/functions_reference.py).
pub fn reference() -> Vec<Case> {
    let number = |v: &Value| v.as_f64();
    include_str!("../cases/functions.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            Case {
                function: v["function"].as_str().unwrap().to_string(),
                args: v["args"].as_array().unwrap().iter().map(|a| a.as_f64().unwrap()).collect(),
                value: number(&v["value"]),
                partials: v["partials"].as_array().unwrap().iter().map(number).collect(),
            }
        })
        .collect()
}

/// |got - want| / |want|; 0 when both are equal (zeros and infinities too), infinite when
/// exactly one is NaN or `want` is 0 and `got` is not. `None` wants NaN.
pub fn relative_error(got: f64, want: Option<f64>) -> f64 {
    match want {
        None if got.is_nan() => 0.0,
        None => f64::INFINITY,
        Some(w) if got == w => 0.0,
        Some(_) if got.is_nan() => f64::INFINITY,
        Some(w) => ((got - w) / w).abs(),
    }
}

/// Derivatives of the older functions (SPEC.md "Formula syntax") that are inaccurate in a
/// tail, found by the mpmath reference and left alone here (changing their printed forms is
/// for another change): from which |first argument| on, the relative error allowed, and why.
pub const KNOWN_INACCURATE: [(&str, f64, f64, &str); 5] = [
    ("asin", 0.999, 1e-10, "1/sqrt(1 - x^2) cancels next to +-1: 2.5e-11 at 1 - 1e-10"),
    ("acos", 0.999, 1e-10, "-1/sqrt(1 - x^2) cancels next to +-1: 2.5e-11 at 1 - 1e-10"),
    ("tanh", 15.0, 1.0, "1 - tanh(x)^2 is 0 for |x| > 19 (the true value is about 4e-17)"),
    ("sigmoid", 15.0, 1.0, "sigmoid(x)*(1 - sigmoid(x)) loses digits from x = 20, is 0 past 37"),
    ("atan2", 1e154, 1.0, "x/(x^2 + y^2) is 0 once x^2 overflows, past 1e154"),
];

/// The relative error allowed for the derivatives of `function` at `args`: `tol`, unless
/// the point is in one of the tails of [`KNOWN_INACCURATE`].
pub fn derivative_tolerance(function: &str, args: &[f64], tol: f64) -> f64 {
    KNOWN_INACCURATE
        .iter()
        .find(|(f, from, ..)| *f == function && args[0].abs() >= *from)
        .map_or(tol, |&(_, _, t, _)| t)
}

/// Deterministic data in [-1, 1): `n` values from `seed`.
pub fn data(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}
