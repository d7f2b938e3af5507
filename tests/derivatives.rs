//! Snapshots of printed derivatives (text and LaTeX) over the case files in
//! tests/cases/derivatives. Each line is `formula | variables [| order]`. Every printed
//! derivative is also checked numerically, so a snapshot can only record a right answer:
//! its text, parsed back, must match a central finite difference of the formula (or of
//! the printed derivative one order lower).

mod common;

use chainrule::{print, Formula};
use common::{close, eval_text};
use std::fmt::Write;

/// Test values for the variables, in order of first appearance: away from kinks and
/// mostly inside the domains of asin, acos, ln and sqrt.
const VALUES: [f64; 12] = [0.7, 1.3, 0.45, 1.9, 0.85, 1.15, 0.6, 1.45, 0.35, 1.05, 0.55, 1.6];

#[test]
fn derivative_snapshots() {
    insta::glob!("cases/derivatives/*.txt", |path| {
        let cases = std::fs::read_to_string(path).unwrap();
        let mut report = String::new();
        for line in cases.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            report.push_str(&describe(line));
        }
        insta::assert_snapshot!(report);
    });
}

fn describe(line: &str) -> String {
    let parts: Vec<&str> = line.split(" | ").collect();
    let (formula, wrt, order) = match parts.as_slice() {
        [f, w] => (*f, *w, 1),
        [f, w, o] => (*f, *w, o.trim().parse().unwrap()),
        _ => panic!("bad case line: {line}"),
    };
    let mut f = Formula::parse(formula).unwrap_or_else(|e| panic!("{}", e.render(formula)));
    let simplified = f.simplified().unwrap();
    let names = f.vars.clone();
    let values: Vec<f64> = VALUES.iter().cycle().take(names.len()).copied().collect();
    let mut out = format!("{formula}\n  = {}\n", f.text(simplified));
    for v in wrt.split(',').map(str::trim) {
        let d = f.derivative(v, order).unwrap();
        let text = f.text(d);
        let label = if order == 1 { format!("d/d{v}") } else { format!("d{order}/d{v}{order}") };
        writeln!(out, "  {label} = {text}").unwrap();
        writeln!(out, "  {:width$}   {}", "", print::latex(&f.graph, d), width = label.len())
            .unwrap();
        let lower = if order == 1 {
            f.text(simplified)
        } else {
            let mut copy = f.clone();
            let d = copy.derivative(v, order - 1).unwrap();
            copy.text(d)
        };
        check(&lower, &text, &names, &values, v);
    }
    out
}

/// The printed derivative equals the finite difference of the printed lower order.
fn check(lower: &str, derivative: &str, names: &[String], values: &[f64], v: &str) {
    let Some(i) = names.iter().position(|n| n == v) else {
        assert_eq!(derivative, "0", "d/d{v} of {lower} with no {v} in it");
        return;
    };
    let h = 1e-5;
    let at = |delta: f64| {
        let mut p = values.to_vec();
        p[i] += delta;
        eval_text(lower, names, &p)
    };
    let numeric = (at(h) - at(-h)) / (2.0 * h);
    let symbolic = eval_text(derivative, names, values);
    if numeric.is_finite() && symbolic.is_finite() {
        assert!(
            close(symbolic, numeric, 1e-5),
            "d/d{v} of {lower} = {derivative}: {symbolic} vs {numeric}"
        );
    } else {
        assert!(
            !at(0.0).is_finite() || !numeric.is_finite(),
            "{derivative} is not finite where {lower} is"
        );
    }
}
