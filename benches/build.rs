//! The stages before simplification, at sizes four times apart, so that a cost that grows
//! faster than the formula shows as a ratio above 4: parsing, lowering and the reverse sweep
//! of logsumexp written out over 10,000 and 40,000 scalar variables
//! (`log(exp(x1) + exp(x2) + ...)`), and parsing and lowering of a flat sum of
//! `sin(a*x + b)` terms (the benchmark family `sumsin`) of 2,500 and 10,000 terms.
//! Run with `cargo bench --bench build`.

use chainrule::graph::lower::lower;
use chainrule::{diff, syntax, Formula, Graph};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

/// `log(exp(x1) + ... + exp(xn))`.
fn logsumexp(n: usize) -> String {
    let terms: Vec<String> = (1..=n).map(|i| format!("exp(x{i})")).collect();
    format!("log({})", terms.join(" + "))
}

/// `sin(a1*x + b1) + ...` with coefficients like the family's (four decimals).
fn sumsin(n: usize) -> String {
    let term = |k: usize| {
        let (a, b) = (0.5 + (k * 7919 % 10_000) as f64 / 6_667.0, (k * 104_729 % 2_000) as f64);
        format!("sin({a:.4}*x + {:.4})", b / 2_000.0 - 0.5)
    };
    (1..=n).map(term).collect::<Vec<_>>().join(" + ")
}

fn stages(c: &mut Criterion, name: &str, source: &str, differentiate: bool) {
    c.bench_function(&format!("build/{name}/parse"), |b| {
        b.iter(|| black_box(syntax::parse(source).unwrap()))
    });
    let program = syntax::parse(source).unwrap();
    c.bench_function(&format!("build/{name}/lower"), |b| {
        b.iter(|| black_box(lower(&mut Graph::new(), &program).unwrap().root))
    });
    if !differentiate {
        return;
    }
    let formula = Formula::parse(source).unwrap();
    c.bench_function(&format!("build/{name}/diff"), |b| {
        b.iter_batched(
            || formula.clone(),
            |mut f| {
                let (root, vars) = (f.root(), f.var_nodes());
                black_box(diff::grad(f.graph_mut(), root, &vars).unwrap())
            },
            criterion::BatchSize::LargeInput,
        )
    });
}

fn bench(c: &mut Criterion) {
    for n in [10_000, 40_000] {
        stages(c, &format!("logsumexp_{n}"), &logsumexp(n), true);
    }
    for n in [2_500, 10_000] {
        stages(c, &format!("sumsin_{n}"), &sumsin(n), false);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
