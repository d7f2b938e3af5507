//! Properties over random formulas: printing then parsing gives back the same graph node;
//! simplifying keeps the value; symbolic derivatives agree with central finite differences.

mod common;

use chainrule::graph::lower::lower;
use chainrule::graph::walk;
use chainrule::operators::Func;
use chainrule::{simplify, syntax, Formula, Request, Simplify};
use common::close;
use proptest::prelude::*;

/// Random formulas over x, y, z, calling every function of the table. `smooth` wraps each
/// argument in its [`smooth_guards`] (for the finite difference check); otherwise any
/// argument goes, domain errors included.
fn formula(smooth: bool) -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("y".to_string()),
        Just("z".to_string()),
        (1u32..40).prop_map(|n| format!("{}", n as f64 / 8.0)),
        Just("pi".to_string()),
    ];
    let of_arity =
        |n: usize| -> Vec<Func> { Func::ALL.iter().copied().filter(|f| f.arity() == n).collect() };
    let call = move |f: Func, args: &[&String]| {
        let guards = if smooth { smooth_guards(f) } else { ["$"; 3] };
        let args: Vec<String> = args.iter().zip(guards).map(|(a, g)| g.replace('$', a)).collect();
        format!("{}({})", f.name(), args.join(", "))
    };
    leaf.prop_recursive(5, 40, 3, move |inner| {
        prop_oneof![
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} - {b})")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}*{b}")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}/(1.5 + sin({b}))")),
            1 => (inner.clone(), 1i32..4).prop_map(|(a, n)| format!("({a})^{n}")),
            1 => inner.clone().prop_map(|a| format!("-{a}")),
            1 => inner.clone().prop_map(|a| format!("ln(1 + ({a})^2)")),
            1 => inner.clone().prop_map(|a| format!("sqrt(2 + sin({a}))")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("logsumexp([{a}, {b}])")),
            4 => (prop::sample::select(of_arity(1)), inner.clone())
                .prop_map(move |(f, a)| call(f, &[&a])),
            2 => (prop::sample::select(of_arity(2)), inner.clone(), inner.clone())
                .prop_map(move |(f, a, b)| call(f, &[&a, &b])),
            1 => (prop::sample::select(of_arity(3)), inner.clone(), inner.clone(), inner.clone())
                .prop_map(move |(f, a, b, c)| call(f, &[&a, &b, &c])),
        ]
    })
}

/// For the finite-difference property: a template per argument (`$` stands for it) that
/// keeps the argument inside the function's domain and away from its kinks and jumps.
/// Exhaustive, so that a new function has to say how it is guarded.
fn smooth_guards(f: Func) -> [&'static str; 3] {
    use Func::*;
    const ANY: &str = "$";
    // [1, 3]: positive, away from the kinks at 0
    const POSITIVE: &str = "(2 + sin($))";
    match f {
        Sin | Cos | Atan | Sinh | Cosh | Tanh | Asinh | Exp | Expm1 | Erf | Erfc | Sigmoid
        | Softplus | Gelu | Silu => [ANY; 3],
        // continuous first derivative: its kink is in the second
        Elu => [ANY; 3],
        // poles at +-pi/2, or the domain [-1, 1]
        Tan | Asin | Acos | Atanh => ["0.9*sin($)"; 3],
        Acosh => ["(2.5 + sin($))"; 3],
        Ln | Log1p | Log2 | Log10 | Sqrt | Cbrt | Abs | Relu | Sign | Step => [POSITIVE; 3],
        // between whole numbers and halves
        Floor | Ceil | Round => ["(0.3 + 0.1*sin($))"; 3],
        // away from the origin and the branch cut along negative x
        Atan2 => [ANY, POSITIVE, ANY],
        Hypot => [POSITIVE, ANY, ANY],
        // never a tie
        Min | Max => ["sin($)", "(3 + sin($))", ANY],
        // the a*x side, so that d/da is not 0
        LeakyRelu => ["(sin($) - 2)", ANY, ANY],
        // lo < hi; x anywhere (a kink within a step of x shows as truncation error)
        Clamp => [ANY, "(sin($) - 2.5)", "(2.5 + sin($))"],
    }
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
    fn the_evaluation_form_never_swells_and_keeps_the_values(src in formula(false), at in point()) {
        let mut f = Formula::parse(&src).unwrap();
        let wrt = f.var_ids().to_vec();
        let request = Request::new(wrt).with_hessian().simplify(Simplify::Raw);
        let raw = f.derive(&request).unwrap().roots();
        let evaluated = simplify::for_evaluation(f.graph_mut(), &raw).unwrap();
        let (given, kept) = (walk::reachable(f.graph(), &raw).len(), walk::reachable(f.graph(), &evaluated).len());
        prop_assert!(kept <= given, "{}: {} nodes for evaluation > {} given", src, kept, given);
        let at: Vec<f64> = f.var_names().iter().map(|n| at[names().iter().position(|m| m == n).unwrap()]).collect();
        let before = f.compile(&raw).unwrap().run(&at, &mut Vec::new());
        let after = f.compile(&evaluated).unwrap().run(&at, &mut Vec::new());
        for (k, (a, b)) in after.iter().zip(&before).enumerate() {
            if b.is_finite() && b.abs() < 1e9 {
                prop_assert!(close(*a, *b, 1e-8), "{}: output {} = {} but {} for evaluation", src, k, b, a);
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

// ---------------------------------------------------------------------------------------
// array programs (SPEC "Arrays")

/// What every random array program starts with: its arrays and its functions.
const PRELUDE: &str = "u: [3]; A: [3, 3]; W: [2, 3]\n\
                       g(a) = sin(a) + a*a/4\n\
                       h(s, a) = s*sum(a) + dot(a, u)\n";

/// Random array programs with matching shapes: vectors of 3 built from the declared
/// arrays, rows, columns, literals, builders, `@` both ways, elementwise functions, a user
/// function, `outer` and `transpose`; reduced to scalars by reductions, elements, `dot`,
/// quadratic forms, an indexed double sum, losses and a user function of a scalar and a
/// vector. Every function is smooth, for the finite-difference property.
fn array_program() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("u"),
        Just("A[:, 2]"),
        Just("W[2, :]"),
        Just("[x, y, 0.5]"),
        Just("softmax(u)"),
        Just("[sin(u[i])*i for i = 1..3]"),
        Just("A[1, :]*x"),
    ]
    .prop_map(String::from);
    let vector = leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}*{b})")),
            inner.clone().prop_map(|a| format!("tanh({a})")),
            inner.clone().prop_map(|a| format!("sigmoid(2*{a} - 1)")),
            inner.clone().prop_map(|a| format!("(A @ {a})")),
            inner.clone().prop_map(|a| format!("({a} @ A)")),
            inner.clone().prop_map(|a| format!("softmax({a})")),
            inner.clone().prop_map(|a| format!("g({a})")),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("(transpose(outer({a}, {b})) @ u)")),
            inner.clone().prop_map(|a| format!("[({a})[4 - i] for i = 1..3]")),
            inner.clone().prop_map(|a| format!("(x*{a} - y)")),
            inner.clone().prop_map(|a| format!("(W @ {a} @ W)")),
        ]
    });
    let v = || vector.clone();
    let scalar = prop_oneof![
        v().prop_map(|a| format!("sum({a})")),
        v().prop_map(|a| format!("logsumexp({a})")),
        v().prop_map(|a| format!("norm({a}*0 + [1, 2, 2] + 0.1*{a})")),
        (v(), v()).prop_map(|(a, b)| format!("dot({a}, {b})")),
        v().prop_map(|a| format!("({a} @ A @ {a})")),
        (v(), 1u32..4).prop_map(|(a, k)| format!("({a})[{k}]")),
        (v(), v()).prop_map(|(a, b)| format!("sum(i = 1..3, j = i..3, ({a})[i]*({b})[j])")),
        (v(), v()).prop_map(|(a, b)| format!("(h(x, {a}) + mean({b}))")),
        v().prop_map(|a| format!("prod(0.5*{a} + 2)")),
        v().prop_map(|a| format!("mse({a}, u)")),
        v().prop_map(|a| format!("softmax_cross_entropy({a}, softmax(u))")),
    ];
    (scalar.clone(), scalar).prop_map(|(a, b)| format!("{PRELUDE}{a} + {b}*y"))
}

/// The declarations of the prelude, for reading printed texts back.
const DECLARATIONS: &str = "u: [3]; A: [3, 3]; W: [2, 3]; ";

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 150,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0xa77a),
        ..ProptestConfig::default()
    })]

    #[test]
    fn array_programs_print_derivatives_that_read_back(src in array_program()) {
        let mut f = Formula::parse(&src).unwrap_or_else(|e| panic!("{src}: {}", e.render(&src)));
        let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
        let gradient = f.gradient(&names).unwrap();
        for (name, &d) in names.iter().zip(&gradient) {
            let text = format!("{DECLARATIONS}{}", f.text(d));
            let program = syntax::parse(&text).unwrap();
            let again = lower(f.graph_mut(), &program).unwrap().root;
            prop_assert_eq!(again, d, "d/d{} of {} printed as {}", name, src, text);
        }
    }

    #[test]
    fn array_program_gradients_match_finite_differences(src in array_program(), seed in 0u64..1000) {
        let mut f = Formula::parse(&src).unwrap();
        let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
        let at: Vec<f64> =
            (0..names.len()).map(|i| ((seed * 31 + i as u64 * 17) % 200) as f64 / 100.0 - 1.0).collect();
        let gradient = f.gradient(&names).unwrap();
        let symbolic = common::eval_roots(&f, &gradient, &names, &at);
        let value = common::eval_roots(&f, &[f.root()], &names, &at)[0];
        for i in 0..names.len() {
            let coarse = common::finite_difference_with_step(&f, &names, &at, i, 2e-5);
            let numeric = common::finite_difference_with_step(&f, &names, &at, i, 1e-5);
            let truncation = (coarse - numeric).abs();
            let rounding = 1e-10 * value.abs() / 1e-5;
            if numeric.is_finite() && numeric.abs() < 1e6 {
                let allowed = 1e-4 * numeric.abs().max(1.0) + rounding + 2.0 * truncation;
                prop_assert!((symbolic[i] - numeric).abs() <= allowed, "d/d{} of {} = {}: {} vs {}", names[i], src, f.text(gradient[i]), symbolic[i], numeric);
            }
        }
    }
}
