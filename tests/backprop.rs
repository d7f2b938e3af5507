//! Backpropagation at a point (`graph --at`, `trace`): the adjoints of the variables are the
//! gradient `eval --grad` prints, on every point of the public corpus; the derivative nodes
//! drawn beside the formula have those values too.

mod common;

use chainrule::Formula;
use common::*;

/// Equal to `tol` relative, or both the same non-finite value.
fn agree(got: f64, want: f64, tol: f64) -> bool {
    if !want.is_finite() || !got.is_finite() {
        return got.is_nan() && want.is_nan() || got == want;
    }
    close(got, want, tol)
}

#[test]
fn variable_adjoints_are_the_gradient_on_the_corpus() {
    let mut checked = 0;
    for case in cases("eval") {
        let names = var_names(&case);
        let mut f = Formula::parse(case["expr"].as_str().unwrap()).unwrap();
        // As `graph --at` draws it: the formula simplified, with the derivatives beside it.
        let view = f.graph_view(&names, 1).unwrap();
        let tape = f.gradient_tape(&names).unwrap();
        let nodes = view.nodes().to_vec();
        let outputs: Vec<_> = view.outputs().iter().map(|o| o.node).collect();
        for pt in case["points"].as_array().unwrap() {
            let (_, values) = point(&case, &pt["at"]);
            let grad = tape.run(&values, &mut Vec::new());
            let sweep = f.backprop(outputs[0], &nodes, &values).unwrap();
            for (i, name) in names.iter().enumerate() {
                let var = f.var(name);
                let adjoint = sweep.adjoint(var).unwrap_or(0.0);
                let want = grad[1 + i];
                assert!(
                    agree(adjoint, want, 1e-9),
                    "{} d/d{name} at {values:?}: adjoint {adjoint}, eval --grad {want}",
                    case["id"]
                );
                // The symbolic derivative drawn beside it evaluates to the same number.
                let drawn = sweep.value(outputs[1 + i]).unwrap();
                assert!(agree(drawn, want, 1e-9), "{} drawn d/d{name} {drawn}", case["id"]);
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

/// `chainrule ARGS`, which must succeed, and its standard output.
fn run(args: &[&str]) -> String {
    let (status, out, err) = chainrule(args);
    assert_eq!(status, 0, "{args:?}: {err}");
    out
}

/// The XOR network at weights a person can follow by hand.
const XOR_POINT: &str = "w1_1=0.5,w1_2=-0.5,b1=0,w2_1=-0.5,w2_2=0.5,b2=0,w3_1=1,w3_2=1,b3=-1,\
w4_1=0.25,w4_2=0.25,b4=0.1,v1=1,v2=-1,v3=0.5,v4=-0.5,c=0,x1=1,x2=0,y=1";

#[test]
fn trace_of_a_textbook_example() {
    // The classic first example of backpropagation: q = x + y, f = q*z at (-2, 5, -4).
    let out = run(&["trace", "q = x + y; f = q*z", "--at", "x=-2,y=5,z=-4"]);
    insta::assert_snapshot!("trace_textbook", out);
}

#[test]
fn trace_sums_the_two_paths_of_a_shared_node() {
    let out = run(&["trace", "u = x*y; f = sin(u) + u", "--at", "x=1,y=2"]);
    insta::assert_snapshot!("trace_shared", out);
}

/// By hand: out = sigmoid(0.20161) = 0.550232, so the loss's derivative at the output's
/// pre-activation is out - y = -0.449768 (adj(t24)); h1 = sigmoid(0.5) = 0.622459 gives
/// d loss/d v1 = -0.449768 * h1 = -0.279962, and through h1's sigmoid'(0.5) = h1*(1 - h1) =
/// 0.235004, d loss/d w1_1 = -0.449768 * v1 * 0.235004 * x1 = -0.105697.
#[test]
fn trace_of_the_xor_network() {
    let out = run(&[
        "trace",
        "-f",
        "examples/xor/model-scalar.expr",
        "--at",
        XOR_POINT,
        "--wrt",
        "w1_1,v1",
    ]);
    insta::assert_snapshot!("trace_xor", out);
}

#[test]
fn trace_json_has_the_spec_shape() {
    let out = run(&["trace", "u = x*y; f = sin(u) + u", "--at", "x=1,y=2", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let forward = v["forward"].as_array().unwrap();
    assert_eq!(forward.len(), 5);
    assert_eq!(forward[2]["text"], "x*y");
    let backward = v["backward"].as_array().unwrap();
    let u = backward.iter().find(|r| r["name"] == "u").unwrap();
    assert_eq!(u["terms"].as_array().unwrap().len(), 2);
    let grad = &v["gradient"];
    assert!((grad["x"].as_f64().unwrap() - 2.0 * (2f64.cos() + 1.0)).abs() < 1e-12);
    assert!((grad["y"].as_f64().unwrap() - (2f64.cos() + 1.0)).abs() < 1e-12);
}

#[test]
fn at_names_that_are_not_variables_are_usage_errors() {
    for cmd in [&["trace", "x*y", "--at", "x=1,y=2,z=3"][..], &["graph", "x*y", "--at", "x=1,z=3"]]
    {
        let (status, _, err) = chainrule(cmd);
        assert_eq!(status, 2, "{cmd:?}");
        assert!(err.contains("`z` in --at is not a variable"), "{err}");
    }
}

#[test]
fn graph_json_at_a_point_carries_values_and_adjoints() {
    let out =
        run(&["graph", "x*y + sin(x*y)", "--at", "x=1,y=2", "--wrt", "x", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    let x = nodes.iter().find(|n| n["label"] == "x").unwrap();
    assert_eq!(x["value"], 1.0);
    assert!((x["adjoint"].as_f64().unwrap() - 2.0 * (1.0 + 2f64.cos())).abs() < 1e-12);
    // Derivative-only nodes have a value but no adjoint: the result does not depend on them.
    let derivative = nodes.iter().filter(|n| n["role"] == "derivative");
    assert!(derivative.clone().count() > 0);
    assert!(derivative.clone().all(|n| n.get("value").is_some() && n.get("adjoint").is_none()));
    assert_eq!(v["outputs"][0]["label"], "f");
    let dot = run(&["graph", "x*y", "--at", "x=3,y=5"]);
    assert!(dot.contains(r#"label="x\n= 3\nadj 5""#), "{dot}");
}
