//! Native code: compile time over tapes of a few sizes (it should grow linearly), and one
//! point's value and gradient, native against the interpreter, on the same tapes.
//! Run with `cargo bench --bench native`.

use chainrule::eval::{compile_native, Tape};
use chainrule::Formula;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

/// Rosenbrock in `n` variables: no calls, every value read a few instructions later.
fn rosenbrock(n: usize) -> String {
    let terms: Vec<String> =
        (1..n).map(|i| format!("100*(x{} - x{i}^2)^2 + (1 - x{i})^2", i + 1)).collect();
    terms.join(" + ")
}

/// A sum of `k` waves: two calls a term, `x` read across all of them.
fn waves(k: usize) -> String {
    let terms: Vec<String> = (1..=k).map(|i| format!("sin({i}/{k}*x + 1/{i})")).collect();
    terms.join(" + ")
}

/// The value-and-gradient tape of `source`, with respect to every variable.
fn gradient_tape(source: &str) -> Tape {
    let mut f = Formula::parse(source).unwrap();
    let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
    f.gradient_tape(&names).unwrap()
}

fn cases() -> Vec<(String, Tape)> {
    let mut cases = Vec::new();
    for n in [10, 100, 1_000] {
        cases.push((format!("rosenbrock{n}"), gradient_tape(&rosenbrock(n))));
    }
    for k in [100, 1_000, 10_000] {
        cases.push((format!("waves{k}"), gradient_tape(&waves(k))));
    }
    cases
}

fn bench(c: &mut Criterion) {
    let cases = cases();
    let mut group = c.benchmark_group("native_compile");
    group.sample_size(10);
    for (name, tape) in &cases {
        let id = BenchmarkId::new(name.as_str(), tape.len());
        group.bench_function(id, |b| b.iter(|| compile_native(black_box(tape)).unwrap()));
    }
    group.finish();
    let mut group = c.benchmark_group("value_and_gradient");
    for (name, tape) in &cases {
        let point: Vec<f64> = (0..tape.inputs().len()).map(|i| 0.5 + 1e-3 * i as f64).collect();
        let native = compile_native(tape).unwrap();
        let mut out = vec![0.0; tape.outputs()];
        let mut registers = Vec::new();
        group.bench_function(format!("{name}/interpreter"), |b| {
            b.iter(|| tape.run_into(black_box(&point), &mut registers, &mut out))
        });
        group.bench_function(format!("{name}/native"), |b| {
            b.iter(|| native.run_into(black_box(&point), &mut out))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
