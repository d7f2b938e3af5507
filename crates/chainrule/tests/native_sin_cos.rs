//! A `sin` and a `cos` of one value: native code, which makes such a pair with one call to
//! `fastmath::sin_cos` (the second value kept in a machine register, or stored in the
//! register file for a reader far away), gives the interpreter's bits, in one function and
//! in many. (`sin_cos` itself against `sin` and `cos` alone: `tests/fastmath.rs`.)
#![cfg(feature = "native")]

use chainrule::eval::{self, Tape};
use chainrule::Formula;
use std::f64::consts::FRAC_PI_2;

/// Zeros, subnormals, the ends of the fast range (2^20), huge arguments, infinities, NaN,
/// and the doubles next to multiples of π/2, each with its negation.
fn edges() -> Vec<f64> {
    let mut xs = vec![0.0, 5e-324, 1e-300, 0.78, 0.7799999, 1.0, 1048575.9, 1048576.0, 1e22];
    xs.extend([1e300, f64::MAX, f64::INFINITY, f64::NAN, 3.0e5, 2.5e6]);
    for k in (1..200u64).chain([1 << 19, (1 << 20) / 3, 1 << 30]) {
        let x = k as f64 * FRAC_PI_2;
        xs.extend((-2i64..=2).map(|s| f64::from_bits((x.to_bits() as i64 + s) as u64)));
    }
    xs.extend(xs.clone().iter().map(|x| -x));
    xs
}

/// The bits of `v`, NaNs all alike.
fn bits(v: f64) -> u64 {
    if v.is_nan() {
        u64::MAX
    } else {
        v.to_bits()
    }
}

/// The gradient tape of `source` with respect to every variable, and how many.
fn gradient_tape(source: &str) -> (Tape, usize) {
    let mut f = Formula::parse(source).unwrap();
    let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
    (f.gradient_tape(&names).unwrap(), names.len())
}

/// Native code of `tape` gives the interpreter's bits at `points` (each as many values as
/// the tape has inputs).
fn agrees_with_the_interpreter(source: &str, tape: &Tape, points: &[Vec<f64>]) {
    let native = eval::compile_native(tape).unwrap();
    let mut out = vec![0.0; tape.outputs()];
    for at in points {
        native.run_into(at, &mut out);
        let want = tape.run(at, &mut Vec::new());
        let same = out.iter().zip(&want).all(|(&a, &b)| bits(a) == bits(b));
        assert!(same, "{source} at {at:?}: native {out:?}, interpreter {want:?}");
    }
}

/// Points for `n` variables: each edge in every variable, and points spread over
/// `[-4, 4)`.
fn points(n: usize) -> Vec<Vec<f64>> {
    let edges = edges();
    let mut points: Vec<Vec<f64>> = edges
        .iter()
        .enumerate()
        .map(|(i, _)| (0..n).map(|k| edges[(i + 7 * k) % edges.len()]).collect())
        .collect();
    let spread = |i: usize| (i * 7_919 % 1_000) as f64 / 125.0 - 4.0;
    points.extend((0..50).map(|i| (0..n).map(|k| spread(50 * k + i)).collect()));
    points
}

/// Short tapes (one function): a `sin` whose derivative, the `cos` made with it, is an
/// output; a `cos` before its `sin`; two of one value beside others of another.
#[test]
fn sin_and_cos_pairs_in_one_function_give_the_interpreters_bits() {
    let sources = [
        "sin(x)",
        "cos(x)",
        "cos(x*y) + sin(x*y)",
        "sin(x)*cos(x) + cos(y)^2 - sin(2*y)",
        "sin(sin(x)) + cos(cos(y))",
        "sin(x) + x*y",
    ];
    for source in sources {
        let (tape, n) = gradient_tape(source);
        agrees_with_the_interpreter(source, &tape, &points(n));
    }
}

/// Long tapes (many functions, values through memory): every `sin` of the forward pass has
/// its `cos` in the backward pass, far away, in another function; the `cos` values are
/// stored by the `sin`s, in their registers' places or, where another value is kept there
/// then, in places of their own; sums of them are outputs.
#[test]
fn sin_and_cos_pairs_far_apart_give_the_interpreters_bits() {
    let waves: Vec<String> =
        (1..=3_000).map(|k| format!("sin({}*x + {}/{k})", (k % 37) as f64 / 8.0, k % 11)).collect();
    let mixed: Vec<String> =
        (1..=1_500).map(|k| format!("cos(x/{k} - y)*sin({k}*y) + sin(x + {k})^2")).collect();
    let sources = [waves.join(" + "), mixed.join(" + ")];
    for source in &sources {
        let (tape, n) = gradient_tape(source);
        assert!(tape.len() > 5_000, "a tape long enough to be cut into functions");
        let text = tape.to_string();
        assert!(text.contains("sin(") && text.contains("cos("), "sines and cosines");
        agrees_with_the_interpreter(source, &tape, &points(n)[..60]);
    }
}
