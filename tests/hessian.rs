//! `chainrule hessian`: every second partial, mixed ones included, as SPEC.md fixes it;
//! the printed entries checked against SymPy's Hessians of the corpus.

mod common;

use common::{chainrule, close};
use serde_json::Value;

#[test]
fn prints_the_upper_triangle_in_order_of_appearance() {
    let (status, out, _) = chainrule(&["hessian", "x^2*y^3"]);
    assert_eq!(status, 0);
    assert_eq!(out, "d2/dx2 = 2*y^3\nd2/dxdy = 6*x*y^2\nd2/dy2 = 6*x^2*y\n");
    let (_, out, _) = chainrule(&["hessian", "tanh(w*x + b)", "--wrt", "w,b"]);
    assert_eq!(
        out,
        "d2/dw2 = -2*x^2*tanh(w*x + b)*(1 - tanh(w*x + b)^2)\n\
         d2/dwdb = -2*x*tanh(w*x + b)*(1 - tanh(w*x + b)^2)\n\
         d2/db2 = -2*tanh(w*x + b)*(1 - tanh(w*x + b)^2)\n"
    );
}

#[test]
fn json_holds_the_full_symmetric_matrix() {
    let (status, out, _) = chainrule(&["hessian", "x^2*y^3", "--json"]);
    assert_eq!(status, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["expr"], "x^2*y^3");
    let h = v["hessian"].as_object().unwrap();
    assert_eq!(h.keys().collect::<Vec<_>>(), ["x", "y"]);
    assert_eq!(h["x"]["y"], h["y"]["x"]);
    assert_eq!(h["y"]["y"], "6*x^2*y");
}

#[test]
fn latex_and_cse_forms() {
    let (_, out, _) = chainrule(&["hessian", "x*y", "--format", "latex"]);
    assert_eq!(
        out,
        "\\frac{\\partial^{2} f}{\\partial x^{2}} = 0\n\
         \\frac{\\partial^{2} f}{\\partial x \\partial y} = 1\n\
         \\frac{\\partial^{2} f}{\\partial y^{2}} = 0\n"
    );
    let (_, out, _) = chainrule(&["hessian", "sin(x*y)", "--cse"]);
    assert!(out.lines().any(|l| l.starts_with("d2/dxdy = ")), "{out}");
    assert!(out.lines().next().unwrap().starts_with("t1 = "), "{out}");
    let formula = "h = tanh(w*x + b); (h - y)^2";
    let (_, out, _) = chainrule(&["hessian", formula, "--wrt", "w,b", "--cse", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["assignments"][0]["name"], "h");
    let h = &v["hessian"];
    assert_eq!(h["w"]["b"], h["b"]["w"], "one text for both mixed entries");
    assert!(!h["w"]["b"].as_str().unwrap().contains("tanh"), "{out}");
    let (_, out, _) = chainrule(&["hessian", "sin(x*y)", "--cse", "--format", "latex"]);
    assert!(out.starts_with("t_{1} = x y\n"), "{out}");
    assert!(out.contains("\\partial x \\partial y} = "), "{out}");
}

#[test]
fn printed_entries_match_sympy_on_the_corpus() {
    let mut checked = 0;
    for case in common::cases("eval") {
        let points = case["points"].as_array().unwrap();
        if points[0].get("hessian").is_none() {
            continue;
        }
        let expr = case["expr"].as_str().unwrap();
        let (status, out, err) = chainrule(&["hessian", expr, "--json"]);
        assert_eq!(status, 0, "{}: {err}", case["id"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        let names = common::var_names(&case);
        for p in points {
            let (_, values) = common::point(&case, &p["at"]);
            for a in &names {
                for b in &names {
                    let text = v["hessian"][a][b].as_str().unwrap();
                    let got = common::eval_text(text, &names, &values);
                    let want = p["hessian"][a][b].as_f64().unwrap();
                    assert!(
                        close(got, want, 1e-8),
                        "{}: d2/d{a}d{b} = {text}: {got} vs {want}",
                        case["id"]
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} entries checked");
}
