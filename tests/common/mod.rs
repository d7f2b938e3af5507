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
