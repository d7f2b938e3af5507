//! Every derivative in the corpus against SymPy's numbers, through the graph, through the
//! printed (simplified) text parsed back, and against central finite differences.

mod common;

use chainrule::{diff, Formula, NodeId};
use common::*;

const TOL: f64 = 1e-8;

#[test]
fn values_gradients_and_hessians_match_sympy() {
    let mut checked = 0;
    for case in cases("eval") {
        let expr = case["expr"].as_str().unwrap();
        let mut f = Formula::parse(expr).unwrap();
        let names = var_names(&case);
        let vars: Vec<NodeId> = names.iter().map(|n| f.var(n)).collect();
        let gradient = raw_gradient(&mut f, &names);
        let hessian: Vec<NodeId> = diff::hessian(f.graph_mut(), &gradient, &vars).unwrap().concat();
        for pt in case["points"].as_array().unwrap() {
            let (names, values) = point(&case, &pt["at"]);
            let mut roots = vec![f.root()];
            roots.extend(&gradient);
            roots.extend(&hessian);
            let got = eval_roots(&f, &roots, &names, &values);
            let id = &case["id"];
            assert!(
                close(got[0], pt["value"].as_f64().unwrap(), TOL),
                "{id} value {expr}: got {}",
                got[0]
            );
            for (i, n) in names.iter().enumerate() {
                let want = pt["gradient"][n].as_f64().unwrap();
                assert!(
                    close(got[1 + i], want, TOL),
                    "{id} d/d{n} of {expr}: got {} want {want}",
                    got[1 + i]
                );
                if let Some(h) = pt.get("hessian") {
                    for (j, m) in names.iter().enumerate() {
                        let want = h[n][m].as_f64().unwrap();
                        let k = 1 + names.len() + i * names.len() + j;
                        assert!(
                            close(got[k], want, TOL),
                            "{id} d2/d{n}d{m} of {expr}: got {} want {want}",
                            got[k]
                        );
                        checked += 1;
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 2000, "only {checked} numbers checked");
}

#[test]
fn printed_derivatives_parse_back_to_the_same_numbers() {
    let mut checked = 0;
    for case in cases("eval").into_iter().chain(cases("print")) {
        let expr = case["expr"].as_str().unwrap();
        let mut f = Formula::parse(expr).unwrap();
        let names = var_names(&case);
        let gradient = f.gradient(&names).unwrap();
        let texts: Vec<String> = gradient.iter().map(|&d| f.text(d)).collect();
        for pt in case["points"].as_array().unwrap() {
            let (names, values) = point(&case, &pt["at"]);
            for (n, text) in names.iter().zip(&texts) {
                let want = pt["gradient"][n].as_f64().unwrap();
                let got = eval_text(text, &names, &values);
                assert!(
                    close(got, want, TOL),
                    "{} d/d{n} of {expr} printed as {text}: got {got} want {want}",
                    case["id"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 1400, "only {checked} derivatives checked");
}

#[test]
fn gradients_match_finite_differences() {
    for case in cases("eval") {
        let expr = case["expr"].as_str().unwrap();
        let mut f = Formula::parse(expr).unwrap();
        let names = var_names(&case);
        let gradient = raw_gradient(&mut f, &names);
        for pt in case["points"].as_array().unwrap() {
            let (names, values) = point(&case, &pt["at"]);
            let symbolic = eval_roots(&f, &gradient, &names, &values);
            for i in 0..names.len() {
                let numeric = finite_difference(&f, &names, &values, i);
                assert!(
                    close(symbolic[i], numeric, 1e-4),
                    "{} d/d{} of {expr}: symbolic {} numeric {numeric}",
                    case["id"],
                    names[i],
                    symbolic[i]
                );
            }
        }
    }
}

#[test]
fn the_simplified_formula_keeps_its_value() {
    for case in cases("eval") {
        let expr = case["expr"].as_str().unwrap();
        let mut f = Formula::parse(expr).unwrap();
        let simplified = f.simplified().unwrap();
        let text = f.text(simplified);
        for pt in case["points"].as_array().unwrap() {
            let (names, values) = point(&case, &pt["at"]);
            let want = pt["value"].as_f64().unwrap();
            assert!(
                close(eval_text(&text, &names, &values), want, TOL),
                "{} {expr} simplified to {text}",
                case["id"]
            );
        }
    }
}
