//! The operator table is complete: every row of `Func::ALL` and every callable of
//! `callables::CALLABLES` parses, prints back to text that parses to the same node,
//! evaluates (interpreter, native code, constant folding) to the bits of its kernel, has
//! LaTeX and code templates over exactly its arguments, and has a derivative rule for every
//! argument. The rows are the only list: a new row is tested without editing this file.

use chainrule::graph::lower::lower;
use chainrule::operators::callables::{self, Args, ArrayFn, Callable, CALLABLES};
use chainrule::operators::Func;
use chainrule::{syntax, Formula};
use std::collections::BTreeSet;

/// Argument names of a call: `f(x)`, `f(x, y)`, `f(x, y, z)`.
const VARS: [&str; 3] = ["x", "y", "z"];

/// `name(x, y, ...)` with `arity` arguments.
fn call(name: &str, arity: usize) -> String {
    format!("{name}({})", VARS[..arity].join(", "))
}

fn names(arity: usize) -> Vec<String> {
    VARS[..arity].iter().map(|s| s.to_string()).collect()
}

/// Ordinary points, kinks, halves, signed zeros, domain edges, huge and non-finite values.
const SAMPLES: [f64; 22] = [
    0.3,
    -0.7,
    1.9,
    2.5,
    -2.5,
    0.5,
    -0.5,
    0.0,
    -0.0,
    1.0,
    -1.0,
    1.0 + 1e-10,
    1e-20,
    -1e-300,
    26.0,
    -30.0,
    1e200,
    -1e308,
    710.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

/// Argument tuples for a function of `arity` arguments: every sample for one argument;
/// for more, a walk through the samples that also pairs each with its neighbours.
fn points(arity: usize) -> Vec<[f64; 3]> {
    let n = SAMPLES.len();
    (0..n)
        .flat_map(|i| (0..if arity == 1 { 1 } else { n }).map(move |j| (i, j)))
        .map(|(i, j)| [SAMPLES[i], SAMPLES[j], SAMPLES[(i + 2 * j + 1) % n]])
        .collect()
}

/// Equal bits, or both NaN (NaN payloads and signs are not specified).
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// The `$k` placeholders of a template.
fn placeholders(template: &str) -> BTreeSet<usize> {
    let bytes = template.as_bytes();
    let mut out = BTreeSet::new();
    for (i, _) in template.match_indices('$') {
        let digits: String =
            bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).map(|&b| b as char).collect();
        assert!(!digits.is_empty(), "a `$` without a number in {template:?}");
        out.insert(digits.parse().unwrap());
    }
    out
}

#[test]
fn rows_are_in_variant_order_with_unique_names_and_a_doc() {
    assert!(Func::ALL.len() >= 38, "{} rows", Func::ALL.len());
    let mut seen = BTreeSet::new();
    for (i, &f) in Func::ALL.iter().enumerate() {
        assert_eq!(f as usize, i, "{f:?}");
        assert_eq!(f.row().func, f, "row {i}");
        assert!(seen.insert(f.name()), "{} twice", f.name());
        assert_eq!(Func::from_name(f.name()), Some(f));
        assert!(!f.row().doc.is_empty(), "{}", f.name());
        assert!(
            f.name().chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{}",
            f.name()
        );
        let row = callables::lookup(f.name()).unwrap();
        assert_eq!(row.callable, Callable::Func(f));
        assert_eq!(row.args, Args::Numbers(f.arity()));
    }
    let mut all = BTreeSet::new();
    for c in CALLABLES.iter() {
        // a name has one row per number of arguments (`max(a, b)` and `max(A)`)
        for n in 0..4 {
            if c.args.accepts(n) {
                assert!(all.insert((c.name, n)), "callable {} with {n} arguments twice", c.name);
            }
        }
        assert!(callables::is_reserved(c.name));
    }
    let all: BTreeSet<&str> = all.into_iter().map(|(name, _)| name).collect();
    for c in callables::Constant::ALL {
        assert!(!all.contains(c.name()), "{} is a constant and a callable", c.name());
    }
}

/// Calls of a callable with each number of arguments it accepts.
fn calls(c: &callables::CallRow) -> Vec<String> {
    calls_with(c, VARS)
}

/// Calls of a callable with each number of arguments it accepts, the arguments (or list
/// items) taken from `args`.
fn calls_with(c: &callables::CallRow, args: [&str; 3]) -> Vec<String> {
    let numbers = |n: usize| format!("{}({})", c.name, args[..n].join(", "));
    let [a, b, d] = args;
    match (c.args, c.callable) {
        (_, Callable::Array(ArrayFn::Transpose | ArrayFn::Rows | ArrayFn::Cols)) => {
            vec![format!("{}([[{a}, {b}], [{d}, {a}]])", c.name)]
        }
        (Args::Numbers(n), _) => vec![numbers(n)],
        (Args::OneOrTwoNumbers, _) => vec![numbers(1), numbers(2)],
        (Args::List, _) => vec![format!("{}([{}])", c.name, args.join(", "))],
        (Args::TwoArrays, _) => vec![format!("{}([{a}, {b}], [{d}, {a}])", c.name)],
        (Args::TwoLists { numbers_ok }, _) => {
            let mut v = vec![format!("{}([{a}, {b}], [{d}, {a}])", c.name)];
            if numbers_ok {
                v.push(numbers(2));
            }
            v
        }
    }
}

#[test]
fn every_callable_parses_and_prints_back_to_the_same_node() {
    for c in CALLABLES.iter() {
        for src in calls(c) {
            let mut f =
                Formula::parse(&src).unwrap_or_else(|e| panic!("{src}: {}", e.render(&src)));
            let text = f.text(f.root());
            if let Callable::Func(_) = c.callable {
                if c.name != "swish" {
                    assert_eq!(text, src, "a plain call prints as written");
                }
            }
            let again = lower(f.graph_mut(), &syntax::parse(&text).unwrap()).unwrap().root;
            assert_eq!(again, f.root(), "{src} printed as {text}");
            assert_eq!(f.text(again), text);
            let latex = f.latex(f.root());
            assert!(!latex.contains('$'), "{src}: LaTeX {latex}");
        }
    }
    // the alias is the same node as the function it names
    let mut f = Formula::parse("swish(x)").unwrap();
    assert_eq!(f.text(f.root()), "silu(x)");
    let silu = lower(f.graph_mut(), &syntax::parse("silu(x)").unwrap()).unwrap().root;
    assert_eq!(silu, f.root());
}

#[test]
fn templates_use_exactly_the_arguments() {
    for &f in Func::ALL {
        let row = f.row();
        let want: BTreeSet<usize> = (0..f.arity()).collect();
        for (target, template) in [
            ("latex", row.latex),
            ("rust", row.code.rust),
            ("c", row.code.c),
            ("python", row.code.python),
            ("sql", row.code.sql),
        ] {
            assert_eq!(placeholders(template), want, "{} {target}: {template:?}", f.name());
        }
    }
}

#[test]
fn the_interpreter_and_native_code_give_the_kernels_bits() {
    let mut checked = 0;
    for &f in Func::ALL {
        let src = call(f.name(), f.arity());
        let formula = Formula::parse(&src).unwrap();
        let tape = formula.compile(&[formula.root()]).unwrap();
        #[cfg(feature = "native")]
        let native = chainrule::eval::compile_native(&tape).unwrap();
        for args in points(f.arity()) {
            let at = &args[..f.arity()];
            let want = f.eval_f64(args);
            let got = tape.run(at, &mut Vec::new())[0];
            assert!(same(got, want), "{src} at {at:?}: interpreter {got}, kernel {want}");
            let f32_got = tape.run(&at.iter().map(|&a| a as f32).collect::<Vec<_>>(), &mut vec![]);
            let f32_want = f.eval([args[0] as f32, args[1] as f32, args[2] as f32]);
            assert!(same(f32_got[0] as f64, f32_want as f64), "{src} at {at:?} in f32");
            #[cfg(feature = "native")]
            {
                let mut out = [0.0];
                native.run_into(at, &mut out);
                assert!(same(out[0], want), "{src} at {at:?}: native {}, kernel {want}", out[0]);
            }
            checked += 1;
        }
    }
    assert!(checked > 3000, "{checked}");
}

/// The value of a formula without variables.
fn constant(src: &str) -> f64 {
    let formula = Formula::parse(src).unwrap();
    formula.compile(&[formula.root()]).unwrap().run(&[], &mut Vec::new())[0]
}

#[test]
fn constant_folding_gives_the_kernels_bits() {
    for &f in Func::ALL {
        for args in points(f.arity()) {
            let at = &args[..f.arity()];
            if at.iter().any(|a| !a.is_finite()) {
                continue;
            }
            let list: Vec<String> = at.iter().map(|a| format!("{a:?}")).collect();
            let src = format!("{}({})", f.name(), list.join(", "));
            let got = constant(&src);
            // the arguments as the syntax reads them (`-0.0` is the constant 0)
            let mut read = [0.0; 3];
            for (r, a) in read.iter_mut().zip(&list) {
                *r = constant(a);
            }
            let want = f.eval_f64(read);
            // the graph has one zero constant: a folded -0 is 0
            let zeros = got == 0.0 && want == 0.0;
            assert!(same(got, want) || zeros, "{src}: folded {got}, kernel {want}");
        }
    }
}

#[test]
fn every_argument_has_a_derivative_rule() {
    for &f in Func::ALL {
        let src = call(f.name(), f.arity());
        let mut formula = Formula::parse(&src).unwrap();
        let vars = names(f.arity());
        let gradient = formula.gradient(&vars).unwrap();
        assert_eq!(gradient.len(), f.arity());
        // the second order too, and the printed derivatives parse back
        for (i, v) in vars.iter().enumerate() {
            let d2 = formula.derivative(v, 2).unwrap();
            for node in [gradient[i], d2] {
                let text = formula.text(node);
                let again = lower(formula.graph_mut(), &syntax::parse(&text).unwrap()).unwrap();
                assert_eq!(again.root, node, "d/d{v} of {src} printed as {text}");
            }
        }
        let at = &[0.3, 0.7, 1.9][..f.arity()];
        let values = formula.compile(&gradient).unwrap().run(at, &mut Vec::new());
        assert_eq!(values.len(), f.arity(), "{src}");
    }
}

/// Formulas whose tidied derivative (`Formula::derivative` prints the form of
/// `simplify_for_print` since the API merge) reads back as the canonical node instead of the
/// tidied one: found by this test, reported, left to the tidy pass's owner.
const KNOWN_TIDY_MISMATCHES: [&str; 0] = [];

/// The invariants of the `pipeline` fuzz target (`check::round_trip`) for every callable,
/// over arguments that exercise signs, constants, reciprocals and domain edges.
#[test]
fn the_pipeline_invariants_hold_for_every_callable() {
    const ARGS: [&str; 7] = ["x", "-x", "x*y - z", "1/x", "0.5", "sin(x)^2", "y/x"];
    let mut checked = 0;
    for c in CALLABLES.iter() {
        for i in 0..ARGS.len() {
            let args = [ARGS[i], ARGS[(i + 2) % ARGS.len()], ARGS[(i + 5) % ARGS.len()]];
            for src in calls_with(c, args) {
                // alone, and nested in a derivative-heavy context
                let nested = format!("{src}*exp(-x^2) + ln(1 + ({src})^2)");
                for text in [src, nested] {
                    match chainrule::check::round_trip(&text, 500_000) {
                        Err(e) if !KNOWN_TIDY_MISMATCHES.contains(&text.as_str()) => {
                            panic!("{text}: {e}")
                        }
                        Err(e) => assert!(e.ends_with("parses to another node"), "{e}"),
                        Ok(()) => {}
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 500, "{checked}");
}
