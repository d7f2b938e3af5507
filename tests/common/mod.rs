//! Helpers shared by the integration tests: the corpus (copied from the shared SymPy
//! corpus into tests/cases) and numeric comparison.
#![allow(dead_code)]

use chainrule::{diff, eval, Formula, NodeId};
use serde_json::Value;

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
    case["vars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Names and values of a corpus point, in the case's variable order.
pub fn point(case: &Value, at: &Value) -> (Vec<String>, Vec<f64>) {
    let names = var_names(case);
    let values = names.iter().map(|n| at[n].as_f64().unwrap()).collect();
    (names, values)
}

/// The value of `roots` of `f` at a point.
pub fn eval_roots(f: &Formula, roots: &[NodeId], names: &[String], values: &[f64]) -> Vec<f64> {
    eval::evaluate(&f.graph, roots, names, values).unwrap()
}

/// The value of formula text at a point (names it does not use are ignored).
pub fn eval_text(text: &str, names: &[String], values: &[f64]) -> f64 {
    let f = Formula::parse(text)
        .unwrap_or_else(|e| panic!("{text:?} does not parse: {}", e.render(text)));
    eval_roots(&f, &[f.root], names, values)[0]
}

/// Central finite difference of `f` in variable `i`, with a step scaled to the point.
pub fn finite_difference(f: &Formula, names: &[String], values: &[f64], i: usize) -> f64 {
    let h = 1e-5 * values[i].abs().max(1.0);
    let mut plus = values.to_vec();
    let mut minus = values.to_vec();
    plus[i] += h;
    minus[i] -= h;
    let fp = eval_roots(f, &[f.root], names, &plus)[0];
    let fm = eval_roots(f, &[f.root], names, &minus)[0];
    (fp - fm) / (2.0 * h)
}

/// The unsimplified gradient of `f` with respect to `names`.
pub fn raw_gradient(f: &mut Formula, names: &[String]) -> Vec<NodeId> {
    let vars: Vec<NodeId> = names.iter().map(|n| f.var(n)).collect();
    diff::grad(&mut f.graph, f.root, &vars).unwrap()
}
