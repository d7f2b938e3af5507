//! The interactive page of `graph --format html` in a real browser: Debian's Chromium driven
//! through chromedriver by `tests/browser/page.mjs` (Node's own fetch, no npm packages).
//! On the XOR network's gradient it hovers a node and reads the text shown, clicks a variable
//! and compares the lit edges with the paths computed here from `graph --format json`, and
//! saves a screenshot (docs/xor-gradient-page.png is one); the 10-32-1 network's gradient
//! page must be ready in under 2 s. Without the browser the tests print a note and pass,
//! except under CI (`CI` set), where `.ci/run` installs it and a missing browser fails.

mod common;

use common::chainrule;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const XOR_POINT: &str = "x1=1,x2=0,y=1,w1_1=0.5,w1_2=-0.5,b1=0,w2_1=-0.5,w2_2=0.5,b2=0,\
w3_1=1,w3_2=1,b3=-1,w4_1=0.25,w4_2=0.25,b4=0.1,v1=1,v2=-1,v3=0.5,v4=-0.5,c=0";
const XOR_PARAMS: &str = "w1_1,w1_2,b1,w2_1,w2_2,b2,w3_1,w3_2,b3,w4_1,w4_2,b4,v1,v2,v3,v4,c";

/// One browser at a time: the timing test measures the page, not two Chromiums sharing
/// two cores.
static BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// True when node, chromium and chromedriver are all here; otherwise a note (or, in CI, a
/// failure).
fn browser_here() -> bool {
    let found =
        |tool: &str| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    let missing: Vec<&str> =
        ["node", "chromium", "chromedriver"].into_iter().filter(|t| !found(t)).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "CI must run the browser test; missing: {missing:?}");
    eprintln!(
        "note: skipping the browser test: {} not installed (.ci/run installs them)",
        missing.join(", ")
    );
    false
}

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Runs the page driver; its JSON report.
fn drive(args: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/page.mjs");
    let out = Command::new("node").arg(script).args(args).output().expect("node runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "page driver failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// The edges (operand, user) on the paths from the variable `var` to the result, from the
/// graph's JSON.
fn path_edges(graph: &serde_json::Value, var: &str) -> HashSet<(u64, u64)> {
    let edges: Vec<(u64, u64)> = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[0].as_u64().unwrap(), e[1].as_u64().unwrap()))
        .collect();
    let result = graph["outputs"][0]["node"].as_u64().unwrap();
    let start = graph["nodes"].as_array().unwrap().iter().find(|n| n["label"] == var).unwrap()
        ["id"]
        .as_u64()
        .unwrap();
    let mut up = HashSet::from([start]);
    let mut down = HashSet::from([result]);
    // Edges go from lower to higher ids: one pass each way closes both sets.
    for &(a, b) in &edges {
        if up.contains(&a) {
            up.insert(b);
        }
    }
    for &(a, b) in edges.iter().rev() {
        if down.contains(&b) {
            down.insert(a);
        }
    }
    let on = |n: u64| up.contains(&n) && down.contains(&n);
    edges.into_iter().filter(|&(a, b)| on(a) && on(b)).collect()
}

#[test]
fn xor_gradient_page_hovers_and_lights_paths_in_chromium() {
    if !browser_here() {
        return;
    }
    let _one_at_a_time = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let page = tmp("xor.html");
    let common = ["-f", "examples/xor/model-scalar.expr", "--wrt", XOR_PARAMS, "--at", XOR_POINT];
    let (status, _, err) = chainrule(
        &[&["graph"], &common[..], &["--format", "html", "-o", page.to_str().unwrap()]].concat(),
    );
    assert_eq!(status, 0, "{err}");
    let (_, json, _) = chainrule(&[&["graph"], &common[..], &["--format", "json"]].concat());
    let graph: serde_json::Value = serde_json::from_str(&json).unwrap();
    let shot = tmp("xor-gradient-page.png");
    let report = drive(&[page.to_str().unwrap(), "x1", shot.to_str().unwrap()]);

    // Hovering the first hidden unit shows its name, its subexpression, value and adjoint
    // (the numbers trace_xor in tests/backprop.rs works out by hand).
    assert_eq!(report["tip_display"], "block");
    assert_eq!(
        report["tip"],
        "h1\nsigmoid(w1_1*x1 + w1_2*x2 + b1)\nvalue: 0.622459\nadjoint: -0.449768"
    );
    // Clicking x1 lights exactly the edges on its paths to the loss (output markers aside).
    let count = graph["nodes"].as_array().unwrap().len() as u64;
    let lit: HashSet<(u64, u64)> = report["lit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[0].as_u64().unwrap(), e[1].as_u64().unwrap()))
        .filter(|&(_, b)| b < count)
        .collect();
    let expected = path_edges(&graph, "x1");
    assert!(expected.len() > 20, "{expected:?}");
    assert_eq!(lit, expected);
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{} bytes", png.len());
}

/// The `I`-`H`-1 network of benches/tape.rs: tanh hidden units, sigmoid output, BCE loss.
fn network(inputs: usize, hidden: usize) -> (String, String) {
    let mut s = String::new();
    let mut params = Vec::new();
    for j in 1..=hidden {
        let sum: Vec<String> = (1..=inputs).map(|i| format!("w{j}_{i}*x{i}")).collect();
        s.push_str(&format!("h{j} = tanh({} + b{j})\n", sum.join(" + ")));
        params.extend((1..=inputs).map(|i| format!("w{j}_{i}")));
        params.push(format!("b{j}"));
    }
    let out: Vec<String> = (1..=hidden).map(|j| format!("v{j}*h{j}")).collect();
    s.push_str(&format!("out = sigmoid({} + c)\nbce(out, y)\n", out.join(" + ")));
    params.extend((1..=hidden).map(|j| format!("v{j}")));
    params.push("c".into());
    (s, params.join(","))
}

#[test]
fn the_10_32_1_network_gradient_page_is_ready_within_2_seconds() {
    if !browser_here() {
        return;
    }
    let _one_at_a_time = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let (model, params) = network(10, 32);
    let source = tmp("net.expr");
    std::fs::write(&source, model).unwrap();
    let page = tmp("net.html");
    let args = ["graph", "-f", source.to_str().unwrap(), "--wrt", &params, "--format", "html"];
    let (status, _, err) = chainrule(&[&args[..], &["-o", page.to_str().unwrap()]].concat());
    assert_eq!(status, 0, "{err}");
    let report = drive(&[page.to_str().unwrap(), "--timing"]);
    let ready = report["ready_ms"].as_f64().unwrap();
    eprintln!(
        "10-32-1 gradient page: ready after {ready:.0} ms ({} ms with navigation)",
        report["wall_ms"]
    );
    assert!(ready < 2000.0, "{report}");
}
