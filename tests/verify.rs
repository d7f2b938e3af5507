//! `verify` on a set of claims built from the public corpus: every correct derivative (the
//! printed one, reverse mode's unsimplified one, SymPy's) holds; every perturbed one (a
//! sign flipped, a term or factor dropped, a function swapped for another's derivative,
//! a near miss smaller than 1e-9 at most points) fails with a counterexample. No false
//! verdict is allowed.

mod common;

use chainrule::graph::Op;
use chainrule::verify::{self, Claims, Options, Verdict};
use chainrule::{Formula, Request, Simplify};
use serde_json::Value;

/// The verdict on `claim` as d/d`wrt` of `f`; `None` when the claim text does not parse.
fn verdict(f: &Formula, wrt: &str, claim: &str) -> Option<Verdict> {
    let mut f = f.clone();
    let claims = Claims::one(&mut f, wrt, claim).ok()?;
    Some(verify::verify(&mut f, &claims, &claims.claims[0], &Options::default()).unwrap())
}

/// Whether `claim` is certainly wrong: it differs from the corpus gradient at a point.
fn wrong_at_corpus_points(case: &Value, wrt: &str, claim: &str) -> bool {
    case["points"].as_array().unwrap().iter().any(|p| {
        let (names, values) = common::point(case, &p["at"]);
        let want = p["gradient"][wrt].as_f64().unwrap();
        let got = common::eval_text(claim, &names, &values);
        !got.is_finite() || (got - want).abs() > 1e-6 * want.abs().max(1.0)
    })
}

#[derive(Default)]
struct Tally {
    right: usize,
    wrong: usize,
    false_verdicts: Vec<String>,
}

impl Tally {
    fn expect(&mut self, f: &Formula, wrt: &str, claim: &str, holds: bool, what: &str) {
        let Some(v) = verdict(f, wrt, claim) else { return };
        let ok = v.holds == holds && (holds || v.counterexample.is_some());
        if holds {
            self.right += 1;
        } else {
            self.wrong += 1;
        }
        if !ok {
            self.false_verdicts
                .push(format!("{what}: d/d{wrt} of {} claimed {claim}: {v:?}", f.source()));
        }
    }
}

/// Perturbations of a right derivative's text that are wrong, with what they are.
/// Near misses: the derivative plus a small term (returned apart, to tell whether it is
/// visible at all in the formula's domain).
fn near_misses(text: &str, wrt: &str) -> Vec<(String, String)> {
    [
        format!("1e-12*{wrt}^20"),
        format!("1e-7*exp(-1000*({wrt} - 0.5)^2)"),
        format!("1e-10*({text})"),
    ]
    .into_iter()
    .map(|term| (format!("{text} + {term}"), term))
    .collect()
}

/// Whether `term` is larger than 1e-13 of the derivative at one of the corpus points (in
/// the domain): a near miss that is nowhere visible there is no wrong claim.
fn visible(case: &Value, wrt: &str, term: &str) -> bool {
    case["points"].as_array().unwrap().iter().any(|p| {
        let (names, values) = common::point(case, &p["at"]);
        let want = p["gradient"][wrt].as_f64().unwrap();
        let t = common::eval_text(term, &names, &values);
        t.is_finite() && t.abs() > 1e-13 * want.abs()
    })
}

fn perturbed(text: &str, _wrt: &str) -> Vec<(String, &'static str)> {
    let mut out = vec![(format!("-({text})"), "sign flipped")];
    for (from, to, what) in [
        ("cos(", "-cos(", "cos -> -cos"),
        ("sin(", "cos(", "sin -> cos"),
        ("exp(", "2*exp(", "exp -> exp*2"),
        ("sigmoid(", "tanh(", "sigmoid -> tanh"),
        ("ln(", "exp(", "ln -> exp"),
        ("sqrt(", "abs(", "sqrt -> abs"),
    ] {
        let whole = |i: &usize| !text[..*i].ends_with(|c: char| c.is_ascii_alphanumeric());
        if let Some(i) = text.match_indices(from).map(|(i, _)| i).find(whole) {
            out.push((format!("{}{to}{}", &text[..i], &text[i + from.len()..]), what));
        }
    }
    out
}

#[test]
fn claims_from_the_corpus_get_no_false_verdict() {
    let sympy: Vec<Value> = include_str!("cases/verify/sympy_claims.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut tally = Tally::default();
    for case in common::cases("eval") {
        let source = case["expr"].as_str().unwrap();
        let f = Formula::parse(source).unwrap();
        for wrt in common::var_names(&case) {
            let mut g = f.clone();
            let id = g.ids(&[wrt.as_str()]);
            let printed = g.derive(&Request::new(id.clone())).unwrap().derivatives[0];
            let raw = g.derive(&Request::new(id).simplify(Simplify::Raw)).unwrap().derivatives[0];
            let text = g.text(printed);
            if text.len() > 20_000 {
                continue;
            }
            tally.expect(&f, &wrt, &text, true, "printed");
            if raw != printed && g.text(raw).len() < 20_000 {
                tally.expect(&f, &wrt, &g.text(raw), true, "reverse mode, unsimplified");
            }
            for claim in sympy.iter().filter(|c| c["id"] == case["id"] && c["wrt"] == wrt.as_str())
            {
                tally.expect(&f, &wrt, claim["claim"].as_str().unwrap(), true, "SymPy's");
            }
            for (claim, what) in perturbed(&text, &wrt) {
                if wrong_at_corpus_points(&case, &wrt, &claim) {
                    tally.expect(&f, &wrt, &claim, false, what);
                }
            }
            for (claim, term) in near_misses(&text, &wrt) {
                if visible(&case, &wrt, &term) {
                    tally.expect(&f, &wrt, &claim, false, "near miss");
                }
            }
            for dropped in dropped_parts(&g, printed) {
                if wrong_at_corpus_points(&case, &wrt, &dropped) {
                    tally.expect(&f, &wrt, &dropped, false, "a term or factor dropped");
                }
            }
        }
    }
    eprintln!(
        "{} right claims, {} wrong claims, {} false verdicts",
        tally.right,
        tally.wrong,
        tally.false_verdicts.len()
    );
    assert!(tally.false_verdicts.is_empty(), "{}", tally.false_verdicts.join("\n"));
    assert!(tally.right >= 200 && tally.wrong >= 200, "{} {}", tally.right, tally.wrong);
}

/// The derivative without its first term (a sum) or first factor (a product).
fn dropped_parts(f: &Formula, d: chainrule::NodeId) -> Vec<String> {
    let g = f.graph();
    match g.op(d) {
        Op::Add | Op::Mul => g.args(d).iter().map(|&a| f.text(a)).take(2).collect(),
        _ => Vec::new(),
    }
}
