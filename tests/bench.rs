//! `chainrule bench`: every SPEC key and the added ones are present and sane (no time is
//! compared with a threshold), `--at`, `--repeat` and `--rows`, and that what it times is
//! the program `eval` runs: the value and gradient simplified together.

mod common;

use chainrule::graph::walk;
use chainrule::{Formula, Request, Simplify};
use common::*;
use serde_json::Value;

/// `chainrule bench ARGS --json`, which must succeed, as JSON.
fn bench(args: &[&str]) -> Value {
    let mut all = vec!["bench"];
    all.extend(args);
    all.push("--json");
    let (status, out, err) = chainrule(&all);
    assert_eq!(status, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The keys SPEC.md fixes, and the times among them.
const SPEC_KEYS: [&str; 8] = [
    "nodes",
    "gradient_nodes",
    "parse_ms",
    "diff_ms",
    "simplify_ms",
    "compile_ms",
    "eval_ns",
    "grad_ns",
];

fn number(report: &Value, key: &str) -> f64 {
    report[key].as_f64().unwrap_or_else(|| panic!("no number `{key}` in {report}"))
}

#[test]
fn every_spec_key_and_each_minimum_beside_its_mean() {
    let report = bench(&["sigmoid(w*x + b)"]);
    for key in SPEC_KEYS.iter().chain(&["lower_ms", "tape_instructions", "tape_registers"]) {
        assert!(number(&report, key) >= 0.0, "{key} in {report}");
    }
    assert_eq!(report["nodes"], 6);
    let mut pairs = vec!["eval_ns", "grad_ns"];
    if report.get("native_grad_ns").is_some() {
        pairs.extend(["native_eval_ns", "native_grad_ns"]);
        assert!(number(&report, "native_compile_ms") > 0.0);
    }
    for key in pairs {
        let (mean, min) = (number(&report, key), number(&report, &format!("{key}_min")));
        assert!(min > 0.0 && min <= mean, "{key}: min {min}, mean {mean}");
    }
    // Without --rows, no batch figures.
    assert!(report.get("batch_grad_ns_per_row").is_none(), "{report}");
}

#[test]
fn the_text_form_has_the_same_keys() {
    let (status, out, _) = chainrule(&["bench", "x^2*y"]);
    assert_eq!(status, 0);
    let keys: Vec<&str> = out.lines().map(|l| l.split(" = ").next().unwrap()).collect();
    for key in SPEC_KEYS {
        assert!(keys.contains(&key), "{key} in {out}");
    }
}

/// The sizes of a report: what --at must not change.
fn sizes(report: &Value) -> Vec<Value> {
    ["nodes", "gradient_nodes", "tape_instructions", "tape_registers"]
        .iter()
        .map(|k| report[k].clone())
        .collect()
}

#[test]
fn at_changes_the_point_only() {
    let formula = "h = tanh(w*x + b); (h - y)^2";
    let default = bench(&[formula, "--wrt", "w,b"]);
    let at = bench(&[formula, "--wrt", "w,b", "--at", "w=-1.5,x=2,b=0.25,y=-3"]);
    assert_eq!(sizes(&default), sizes(&at));
    // Some variables only: the others stay at 0.5.
    let some = bench(&[formula, "--wrt", "w,b", "--at", "x=3"]);
    assert_eq!(sizes(&default), sizes(&some));
    // Arrays, as eval takes them.
    let arrays = "W: [2, 3]; v: [3]; sum(tanh(W @ v))";
    let default = bench(&[arrays, "--wrt", "W"]);
    let at = bench(&[arrays, "--wrt", "W", "--at", "W=[[1,2,3],[4,5,6]],v=[0.5,-1,2]"]);
    assert_eq!(sizes(&default), sizes(&at));
}

#[test]
fn a_bad_point_is_refused_as_eval_refuses_it() {
    for (at, message) in [
        ("z=1", "`z` in --at is not a variable of the formula; its variables are: x, y"),
        ("x=abc", "--at: `abc` is not a number or an array of numbers (for `x`)"),
        ("x", "--at takes name=value pairs, got `x`"),
        ("x=[1,2]", "`x` is a scalar but is given a vector of 2"),
    ] {
        let (status, _, err) = chainrule(&["bench", "x^2*y", "--at", at]);
        assert_eq!(status, 2, "--at {at}: {err}");
        assert!(err.contains(message), "--at {at}: {err}");
        let (eval_status, _, eval_err) = chainrule(&["eval", "x^2*y", "--at", at]);
        assert_eq!((eval_status, eval_err.as_str()), (status, err.as_str()), "--at {at}");
    }
    let (status, _, err) = chainrule(&["bench", "v: [3]; sum(v^2)", "--at", "v=[1,2]"]);
    assert_eq!(status, 2);
    assert!(err.contains("`v` is declared [3] but given a vector of 2"), "{err}");
}

#[test]
fn rows_and_repeat_take_one_or_more() {
    for option in ["--rows", "--repeat"] {
        for bad in ["0", "-3", "x", "1.5"] {
            let (status, out, err) = chainrule(&["bench", "x^2", option, bad]);
            assert_eq!(status, 2, "{option} {bad}: {err}");
            assert!(out.is_empty() && err.contains(option), "{option} {bad}: {err}");
        }
    }
    // Rows of many variables past the memory cap are refused before anything is laid out.
    let (status, _, err) = chainrule(&["bench", "x*y", "--rows", "40000000"]);
    assert_eq!(status, 2);
    assert!(err.contains("--rows 40000000 with 2 variables"), "{err}");
}

#[test]
fn rows_add_batch_figures_and_repeat_keeps_every_key() {
    let once = bench(&["x*sin(y) + y^3"]);
    let report = bench(&["x*sin(y) + y^3", "--rows", "300", "--repeat", "3", "--at", "x=2"]);
    assert!(number(&report, "batch_grad_ns_per_row") > 0.0, "{report}");
    if report.get("native_grad_ns").is_some() {
        assert!(number(&report, "native_batch_grad_ns_per_row") > 0.0, "{report}");
    }
    let keys = |r: &Value| {
        let mut keys: Vec<String> = r.as_object().unwrap().keys().cloned().collect();
        keys.retain(|k| !k.contains("batch"));
        keys
    };
    assert_eq!(keys(&once), keys(&report));
    assert_eq!(sizes(&once), sizes(&report));
}

#[test]
fn bench_times_the_program_eval_runs() {
    // The value and gradient simplified together (the canonical simplification), as one tape:
    // bench's sizes are those of that program built through the library.
    for (formula, wrt) in [
        ("sigmoid(w*x + b)", vec!["w", "b"]),
        ("h = tanh(w*x + b); (h - y)^2 + 0*w", vec!["w", "b"]),
        ("x^3*sin(x) + exp(x*y)", vec!["x", "y"]),
    ] {
        let report = bench(&[formula, "--wrt", &wrt.join(",")]);
        let mut f = Formula::parse(formula).unwrap();
        let ids = f.ids(&wrt);
        let derived = f.derive(&Request::new(ids).simplify(Simplify::Together)).unwrap();
        let tape = f.compile(&derived.roots()).unwrap();
        assert_eq!(report["tape_instructions"], tape.len(), "{formula}");
        let nodes = walk::reachable(f.graph(), &derived.derivatives).len();
        assert_eq!(report["gradient_nodes"], nodes, "{formula}");
    }
}

#[test]
fn eval_runs_it_right() {
    // What eval prints from that program: the closed forms of d/dx x^3*sin(x) + exp(x*y).
    let (x, y) = (0.7f64, -1.3f64);
    let at = format!("x={x},y={y}");
    let (status, out, err) =
        chainrule(&["eval", "x^3*sin(x) + exp(x*y)", "--at", &at, "--grad", "--hessian", "--json"]);
    assert_eq!(status, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let e = (x * y).exp();
    let want = [
        ("value", v["value"].clone(), x.powi(3) * x.sin() + e),
        ("d/dx", v["gradient"]["x"].clone(), 3.0 * x * x * x.sin() + x.powi(3) * x.cos() + y * e),
        ("d/dy", v["gradient"]["y"].clone(), x * e),
        (
            "d2/dx2",
            v["hessian"]["x"]["x"].clone(),
            6.0 * x * x.sin() + 6.0 * x * x * x.cos() - x.powi(3) * x.sin() + y * y * e,
        ),
        ("d2/dxdy", v["hessian"]["x"]["y"].clone(), e + x * y * e),
        ("d2/dydx", v["hessian"]["y"]["x"].clone(), e + x * y * e),
        ("d2/dy2", v["hessian"]["y"]["y"].clone(), x * x * e),
    ];
    for (what, got, want) in want {
        assert!(close(got.as_f64().unwrap(), want, 1e-13), "{what}: {got} vs {want}");
    }
    // Without --grad, the value alone, and no label of a derivative not asked for.
    let (status, out, _) = chainrule(&["eval", "x^2*y", "--at", "x=3,y=2"]);
    assert_eq!((status, out.as_str()), (0, "value = 18\n"));
}

#[test]
fn eval_over_rows_runs_it_right() {
    // The gradient of the mean squared error of a line over three rows, against its closed
    // form, every row and reduced.
    let dir = std::env::temp_dir().join(format!("chainrule-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("rows.csv");
    let rows = [(1.0, 2.0), (2.0, 2.5), (-1.0, 0.0)];
    let csv: String = rows.iter().map(|(x, y)| format!("{x},{y}\n")).collect();
    std::fs::write(&data, format!("x,y\n{csv}")).unwrap();
    let (w, b) = (0.75, -0.5);
    let at = format!("w={w},b={b}");
    let path = data.to_str().unwrap();
    let formula = "(w*x + b - y)^2";
    let (status, out, err) =
        chainrule(&["eval", formula, "--data", path, "--at", &at, "--grad", "--json"]);
    assert_eq!(status, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let n = rows.len() as f64;
    let r = |&(x, y): &(f64, f64)| w * x + b - y;
    let value: f64 = rows.iter().map(|p| r(p).powi(2)).sum::<f64>() / n;
    let dw: f64 = rows.iter().map(|p| 2.0 * r(p) * p.0).sum::<f64>() / n;
    let db: f64 = rows.iter().map(|p| 2.0 * r(p)).sum::<f64>() / n;
    assert!(close(v["value"].as_f64().unwrap(), value, 1e-14), "{v}");
    assert!(close(v["gradient"]["w"].as_f64().unwrap(), dw, 1e-14), "{v}");
    assert!(close(v["gradient"]["b"].as_f64().unwrap(), db, 1e-14), "{v}");
    let (status, out, _) = chainrule(&[
        "eval", formula, "--data", path, "--at", &at, "--grad", "--reduce", "none", "--json",
    ]);
    assert_eq!(status, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    for (row, p) in v["rows"].as_array().unwrap().iter().zip(&rows) {
        assert!(close(row["gradient"]["w"].as_f64().unwrap(), 2.0 * r(p) * p.0, 1e-14), "{row}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
