//! Properties over random formulas: printing then parsing gives back the same graph node;
//! simplifying keeps the value; symbolic derivatives agree with central finite differences.

mod common;

use chainrule::graph::lower::lower;
use chainrule::{simplify, syntax, Formula};
use common::close;
use proptest::prelude::*;

/// Random formulas over x, y, z. `smooth` leaves out functions with kinks (for the finite
/// difference check) and keeps arguments inside the domains of ln and sqrt.
fn formula(smooth: bool) -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("y".to_string()),
        Just("z".to_string()),
        (1u32..40).prop_map(|n| format!("{}", n as f64 / 8.0)),
        Just("pi".to_string()),
    ];
    leaf.prop_recursive(5, 40, 3, move |inner| {
        let unary = if smooth {
            vec!["sin", "cos", "tanh", "sigmoid", "softplus", "atan", "exp", "sinh"]
        } else {
            vec![
                "sin", "cos", "tanh", "sigmoid", "softplus", "atan", "abs", "relu", "sign", "step",
                "exp",
            ]
        };
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} - {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}*{b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}/(1.5 + sin({b}))")),
            (inner.clone(), 1i32..4).prop_map(|(a, n)| format!("({a})^{n}")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("ln(1 + ({a})^2)")),
            inner.clone().prop_map(|a| format!("sqrt(2 + sin({a}))")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("logsumexp([{a}, {b}])")),
            (prop::sample::select(unary), inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
        ]
    })
}

fn point() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-2.0f64..2.0, 3)
}

fn names() -> Vec<String> {
    vec!["x".into(), "y".into(), "z".into()]
}

proptest! {
    // A fixed seed: the same cases on every run, so that CI cannot flake.
    #![proptest_config(ProptestConfig {
        cases: 1000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
        ..ProptestConfig::default()
    })]

    #[test]
    fn printed_text_parses_back_to_the_same_node(src in formula(false)) {
        let mut f = Formula::parse(&src).unwrap();
        let canonical = f.simplified().unwrap();
        let text = f.text(canonical);
        let reparsed = lower(f.graph_mut(), &syntax::parse(&text).unwrap()).unwrap().root;
        prop_assert_eq!(reparsed, canonical, "{} printed as {}", src, text);
        // and simplifying again changes nothing
        prop_assert_eq!(simplify::simplify_one(f.graph_mut(), canonical).unwrap(), canonical);
    }

    #[test]
    fn printed_derivatives_parse_back_to_the_same_node(src in formula(false)) {
        let mut f = Formula::parse(&src).unwrap();
        let d = f.derivative("x", 1).unwrap();
        let text = f.text(d);
        let reparsed = lower(f.graph_mut(), &syntax::parse(&text).unwrap()).unwrap().root;
        prop_assert_eq!(reparsed, d, "d/dx of {} printed as {}", src, text);
    }

    #[test]
    fn simplifying_keeps_the_value(src in formula(false), at in point()) {
        let mut f = Formula::parse(&src).unwrap();
        let before = common::eval_roots(&f, &[f.root()], &names(), &at)[0];
        let canonical = f.simplified().unwrap();
        let after = common::eval_roots(&f, &[canonical], &names(), &at)[0];
        if before.is_finite() && before.abs() < 1e12 {
            prop_assert!(close(after, before, 1e-9), "{} = {} but simplified {} = {}", src, before, f.text(canonical), after);
        }
    }

    #[test]
    fn tidying_for_print_keeps_the_value(src in formula(false), at in point()) {
        let mut f = Formula::parse(&src).unwrap();
        let raw = common::raw_gradient(&mut f, &names());
        let before = common::eval_roots(&f, &raw, &names(), &at);
        let tidied = simplify::simplify_for_print(f.graph_mut(), &raw).unwrap();
        let after = common::eval_roots(&f, &tidied, &names(), &at);
        for i in 0..3 {
            if before[i].is_finite() && before[i].abs() < 1e9 {
                prop_assert!(close(after[i], before[i], 1e-8), "d/d{} of {} = {} but tidied {} = {}", names()[i], src, before[i], f.text(tidied[i]), after[i]);
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences(src in formula(true), at in point()) {
        let mut f = Formula::parse(&src).unwrap();
        let names = names();
        let gradient = f.gradient(&names).unwrap();
        let symbolic = common::eval_roots(&f, &gradient, &names, &at);
        let value = common::eval_roots(&f, &[f.root()], &names, &at)[0];
        for i in 0..3 {
            // Two step sizes: their difference estimates the finite difference's own
            // truncation error (large where the formula oscillates fast).
            let coarse = common::finite_difference_with_step(&f, &names, &at, i, 2e-5);
            let numeric = common::finite_difference_with_step(&f, &names, &at, i, 1e-5);
            let truncation = (coarse - numeric).abs();
            // the difference quotient's rounding error: about eps * |f| / h
            let rounding = 1e-10 * value.abs() / (1e-5 * at[i].abs().max(1.0));
            if numeric.is_finite() && symbolic[i].is_finite() && numeric.abs() < 1e6 {
                let allowed = 1e-4 * numeric.abs().max(1.0) + rounding + 2.0 * truncation;
                prop_assert!((symbolic[i] - numeric).abs() <= allowed, "d/d{} of {} = {}: {} vs {}", names[i], src, f.text(gradient[i]), symbolic[i], numeric);
            }
        }
    }
}
