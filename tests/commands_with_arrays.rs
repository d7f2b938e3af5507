//! `check`, `verify`, `trace`, `graph` and `bench` on array formulas, from the command line:
//! array points (`--at W=[[..]]`), array variables (`--wrt W`), array results (their
//! Jacobian checked, or a clear refusal where one number is needed).

mod common;

use common::chainrule;
use serde_json::Value;

const LAYER: &str = "W: [2, 2]; x: [2]; h = tanh(W @ x); sum(h)";
const AT: &str = "W=[[0.1,0.2],[0.3,0.4]],x=[1,2]";

#[test]
fn check_an_array_formula_at_an_array_point() {
    let (status, out, stderr) = chainrule(&["check", LAYER, "--at", AT]);
    assert_eq!(status, 0, "{stderr}");
    insta::assert_snapshot!("check_layer", out);
}

#[test]
fn check_of_an_array_result_checks_its_jacobian() {
    let (status, out, stderr) =
        chainrule(&["check", "x: [3]; p = softmax(x)", "--points", "2", "--seed", "3"]);
    assert_eq!(status, 0, "{stderr}");
    // Every element's gradient: 3 rows of the Jacobian of 3, at each of 2 points.
    assert_eq!(out.matches(" ok\n").count(), 2 * 3 * 3, "{out}");
    assert!(out.contains("d p[3]/dx[2]"), "{out}");
    assert_eq!(out.matches("at x=[").count(), 2, "{out}");
}

#[test]
fn check_of_an_array_result_names_the_element_that_differs() {
    // relu'(0) is 0 by convention; the central difference at 0 is 1/2: element 2 only.
    let (status, out, stderr) = chainrule(&["check", "x: [2]; relu(x)", "--at", "x=[0.5,0]"]);
    assert_eq!(status, 1, "{out}");
    let failed: Vec<&str> = out.lines().filter(|l| l.ends_with("FAIL")).collect();
    assert_eq!(failed.len(), 1, "{out}");
    assert!(failed[0].trim_start().starts_with("d f[2]/dx[2]"), "{out}");
    assert!(stderr.contains("1 of 4 derivatives differ"), "{stderr}");
}

#[test]
fn verify_a_whole_array_claim_element_by_element() {
    let (status, out, stderr) = chainrule(&[
        "verify",
        LAYER,
        "--wrt",
        "W",
        "--claim",
        "[[x[1]*(1 - h[1]^2), x[2]*(1 - h[1]^2)], [x[1]*(1 - h[2]^2), x[2]]]",
    ]);
    assert_eq!(status, 1, "{stderr}");
    insta::assert_snapshot!("verify_layer_matrix_claim", out);
    let (status, out, stderr) =
        chainrule(&["verify", LAYER, "--wrt", "W", "--claim", "outer(1 - h^2, x)", "--json"]);
    assert_eq!(status, 0, "{stderr}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let wrt: Vec<&str> =
        json["claims"].as_array().unwrap().iter().map(|c| c["wrt"].as_str().unwrap()).collect();
    assert_eq!(wrt, ["W[1,1]", "W[1,2]", "W[2,1]", "W[2,2]"]);
}

#[test]
fn verify_one_element_and_claim_file_lines_of_elements() {
    let (status, out, stderr) =
        chainrule(&["verify", LAYER, "--wrt", "W[2, 1]", "--claim", "x[1]*(1 - h[2]^2)"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(out.starts_with("d/dW[2,1] = x[1]*(1 - h[2]^2)\n  holds"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims");
    std::fs::write(&path, "g = 1 - h^2\nd/dW[1, 2] = x[2]*g[1]\nd/dx[1] = W[1,1]*g[1]\n").unwrap();
    let (status, out, _) = chainrule(&["verify", LAYER, "--claim-file", path.to_str().unwrap()]);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("d/dW[1,2] = x[2]*g[1]\n  holds: symbolic"), "{out}");
    assert!(out.contains("d/dx[1] = W[1,1]*g[1]\n  FAILS at W[1,1]="), "{out}");
}

#[test]
fn verify_refuses_a_claim_of_the_wrong_shape_and_an_array_result() {
    let (status, _, stderr) = chainrule(&["verify", LAYER, "--wrt", "W", "--claim", "x"]);
    assert_eq!(status, 2);
    insta::assert_snapshot!("verify_claim_of_the_wrong_shape", stderr);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims");
    std::fs::write(&path, "d/dW = 0\n").unwrap();
    let (status, _, stderr) = chainrule(&["verify", LAYER, "--claim-file", path.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(stderr.contains("write `d/dW[1,1] = ...`"), "{stderr}");
    let (status, _, stderr) =
        chainrule(&["verify", "x: [2]; p = softmax(x)", "--wrt", "x", "--claim", "x"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("`verify` needs a scalar result"), "{stderr}");
}

#[test]
fn trace_with_array_variables() {
    let (status, out, stderr) = chainrule(&["trace", LAYER, "--at", AT, "--wrt", "W"]);
    assert_eq!(status, 0, "{stderr}");
    insta::assert_snapshot!("trace_layer", out);
    let (status, out, _) = chainrule(&["trace", LAYER, "--at", AT, "--json"]);
    assert_eq!(status, 0);
    let json: Value = serde_json::from_str(&out).unwrap();
    let gradient = &json["gradient"];
    assert_eq!(gradient["W"].as_array().unwrap().len(), 2, "{gradient}");
    assert_eq!(gradient["x"].as_array().unwrap().len(), 2, "{gradient}");
    let (status, _, stderr) = chainrule(&["trace", "x: [2]; p = softmax(x)", "--at", "x=[1,2]"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("`trace` needs a scalar result"), "{stderr}");
}

#[test]
fn graph_of_an_array_formula_labels_elements() {
    let (status, out, stderr) =
        chainrule(&["graph", LAYER, "--wrt", "W", "--at", AT, "--format", "json"]);
    assert_eq!(status, 0, "{stderr}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let labels: Vec<&str> =
        json["outputs"].as_array().unwrap().iter().map(|o| o["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["f", "d/dW[1,1]", "d/dW[1,2]", "d/dW[2,1]", "d/dW[2,2]"]);
    let vars: Vec<&str> = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["op"] == "var")
        .map(|n| n["label"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["W[1,1]", "W[1,2]", "W[2,1]", "W[2,2]", "x[1]", "x[2]"]);
    let (status, page, _) = chainrule(&["graph", LAYER, "--wrt", "W", "--format", "html"]);
    assert_eq!(status, 0);
    assert!(page.contains("W[2,1]") && page.contains("d/dW[2,1]"));
}

#[test]
fn graph_of_an_array_result_shows_every_element_and_its_jacobian() {
    let (status, out, _) =
        chainrule(&["graph", "x: [2]; p = softmax(x)", "--wrt", "x", "--format", "json"]);
    assert_eq!(status, 0);
    let json: Value = serde_json::from_str(&out).unwrap();
    let labels: Vec<&str> =
        json["outputs"].as_array().unwrap().iter().map(|o| o["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        ["p[1]", "p[2]", "d p[1]/dx[1]", "d p[1]/dx[2]", "d p[2]/dx[1]", "d p[2]/dx[2]"]
    );
    let (status, _, stderr) = chainrule(&["graph", "x: [2]; p = softmax(x)", "--at", "x=[1,2]"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("`graph --at` needs a scalar result"), "{stderr}");
}

#[test]
fn graph_past_the_svg_cap_is_a_summary() {
    let big = "W: [30, 30]; x: [30]; sum(tanh(W @ x))";
    let (status, out, stderr) = chainrule(&["graph", big, "--wrt", "W", "--format", "svg"]);
    assert_eq!(status, 0);
    assert!(stderr.contains("more than --max-nodes 500: drawing a summary instead"), "{stderr}");
    assert!(out.starts_with("<svg") || out.contains("<svg"), "{}", &out[..100.min(out.len())]);
}

#[test]
fn bench_an_array_formula_times_lowering_apart() {
    let (status, out, stderr) = chainrule(&["bench", LAYER, "--wrt", "W", "--json"]);
    assert_eq!(status, 0, "{stderr}");
    let json: Value = serde_json::from_str(&out).unwrap();
    for key in
        ["parse_ms", "lower_ms", "diff_ms", "simplify_ms", "compile_ms", "eval_ns", "grad_ns"]
    {
        assert!(json[key].as_f64().is_some_and(|v| v >= 0.0), "{key}: {json}");
    }
    // The value and 4 derivatives, with what they share.
    assert!(json["gradient_nodes"].as_u64().unwrap() > 4, "{json}");
    let (status, out, _) = chainrule(&["bench", "x: [3]; p = softmax(x)", "--json"]);
    assert_eq!(status, 0);
    let json: Value = serde_json::from_str(&out).unwrap();
    // The Jacobian of softmax: 9 entries, every one non-zero, so more than 9 nodes.
    assert!(json["gradient_nodes"].as_u64().unwrap() > 9, "{json}");
}
