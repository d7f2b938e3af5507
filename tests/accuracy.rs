//! Long sums stay accurate (issue 13, item 7): a node with many users gets its adjoint as a
//! balanced tree of additions, the lowering adds the terms of `sum(i = 1..n, ...)` the same
//! way, and logsumexp written out, in any of its spellings, has the softmax for gradient to
//! about 1e-13. Every expected number is computed here with compensated sums.

mod common;

use chainrule::{eval, Formula, Request, Simplify};
use common::data;

/// The sum of `xs` with Neumaier's compensation: correct to about one rounding.
fn compensated_sum(xs: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut lost) = (0.0f64, 0.0f64);
    for x in xs {
        let t = sum + x;
        lost += if sum.abs() >= x.abs() { (sum - t) + x } else { (x - t) + sum };
        sum = t;
    }
    sum + lost
}

/// logsumexp and softmax of `z`, shifted by the maximum and summed with compensation.
fn softmax(z: &[f64]) -> (f64, Vec<f64>) {
    let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total = compensated_sum(z.iter().map(|v| (v - top).exp()));
    let lse = top + total.ln();
    (lse, z.iter().map(|v| (v - lse).exp()).collect())
}

/// The value and the gradient in every variable of `src` at `at`, simplified as `simplify`.
fn value_and_gradient(src: &str, at: &[f64], simplify: Simplify) -> (f64, Vec<f64>) {
    let mut f = Formula::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let vars = f.var_ids().to_vec();
    assert_eq!(vars.len(), at.len(), "{src}: one value per variable");
    let derived = f.derive(&Request::new(vars.clone()).simplify(simplify)).unwrap();
    let mut roots = vec![derived.value];
    roots.extend(&derived.derivatives);
    let values = eval::evaluate(f.graph(), &roots, &vars, at).unwrap();
    (values[0], values[1..].to_vec())
}

/// The largest relative error of `got` against `want`.
fn worst_relative_error(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter().zip(want).map(|(g, w)| ((g - w) / w).abs()).fold(0.0, f64::max)
}

const N: usize = 50_000;

/// The three spellings of logsumexp of `N` elements.
fn logsumexp_spellings() -> [String; 3] {
    [
        format!("x: [{N}]; logsumexp(x)"),
        format!("x: [{N}]; log(sum(i = 1..{N}, exp(x[i])))"),
        format!("x: [{N}]; m = max(i = 1..{N}, x[i]); m + log(sum(i = 1..{N}, exp(x[i] - m)))"),
    ]
}

fn logsumexp_is_accurate(simplify: Simplify) {
    let z: Vec<f64> = data(7, N).iter().map(|v| 5.0 * v + 50.0).collect();
    let (lse, p) = softmax(&z);
    for src in logsumexp_spellings() {
        let (value, gradient) = value_and_gradient(&src, &z, simplify);
        let what = &src[..src.len().min(60)];
        assert!(((value - lse) / lse).abs() < 1e-15, "{what}: {value} vs {lse}");
        let error = worst_relative_error(&gradient, &p);
        assert!(error < 1e-13, "{what} ({simplify:?}): gradient off by {error:e} (relative)");
    }
}

#[test]
fn logsumexp_written_out_has_an_accurate_softmax_gradient_raw() {
    logsumexp_is_accurate(Simplify::Raw);
}

#[test]
fn logsumexp_written_out_has_an_accurate_softmax_gradient_together() {
    logsumexp_is_accurate(Simplify::Together);
}

/// Terms in the long accumulations: 0.1 each, the classic case where adding one term after
/// another drifts (relative error 2.5e-12 at this length; 1e-16 as a balanced tree).
const M: usize = 160_000;

/// `y` times each of `M` terms: the derivative in `y` adds `M` contributions (the adjoint of
/// a node with `M` users), and the value adds `M` products.
fn long_accumulation_is_accurate(simplify: Simplify) {
    let src = format!("x: [{M}]; sum(i = 1..{M}, y*x[i])");
    let x = vec![0.1; M];
    let y = 3.0;
    let mut at = x.clone();
    at.push(y);
    let (value, gradient) = value_and_gradient(&src, &at, simplify);
    let want_dy = compensated_sum(x.iter().copied());
    let want_value = compensated_sum(x.iter().map(|v| y * v));
    let error = ((value - want_value) / want_value).abs();
    assert!(error < 1e-13, "value ({simplify:?}): {value} vs {want_value}: {error:e}");
    assert!(gradient[..M].iter().all(|&d| d == y), "d/dx[i] is y");
    let error = ((gradient[M] - want_dy) / want_dy).abs();
    assert!(error < 1e-13, "d/dy ({simplify:?}): {} vs {want_dy}: {error:e}", gradient[M]);
}

#[test]
fn a_node_with_many_users_gets_an_accurate_adjoint_raw() {
    long_accumulation_is_accurate(Simplify::Raw);
}

/// The evaluation form keeps long sums balanced too.
#[test]
fn a_node_with_many_users_gets_an_accurate_adjoint_together() {
    long_accumulation_is_accurate(Simplify::Together);
}

/// The balanced sum keeps every term once and in order: a sum of `n` distinct terms has the
/// value of the sum, for lengths around the run length and its multiples.
#[test]
fn balanced_sums_of_every_length_keep_every_term() {
    for n in [1, 2, 31, 32, 33, 63, 64, 65, 100, 257] {
        let src = format!("x: [{n}]; sum(i = 1..{n}, i*x[i])");
        let x: Vec<f64> = (1..=n).map(|i| 1.0 / i as f64).collect();
        let (value, gradient) = value_and_gradient(&src, &x, Simplify::Raw);
        assert!((value - n as f64).abs() < 1e-12, "n = {n}: {value}");
        let want: Vec<f64> = (1..=n).map(|i| i as f64).collect();
        assert_eq!(gradient, want, "n = {n}");
    }
}
