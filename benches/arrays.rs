//! The 50x128 network (sigmoid hidden layer, sigmoid output, bce loss) in its two
//! spellings: scalar, as the benchmark's `mlp_50x128` writes it (6,657 named variables),
//! and with arrays in three lines. Times the build of the gradient tape (parse, lower,
//! gradient, simplify, compile; also parse + lower alone) and one evaluation of value and
//! gradient. Arrays unroll into the scalar spelling's graph, so the tapes are the same
//! size (tests/growth.rs asserts it) and evaluate equally fast.
//! Run with `cargo bench --bench arrays`.

use chainrule::eval::Tape;
use chainrule::Formula;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

#[path = "../tests/common/mlp.rs"]
mod mlp;

/// The gradient tape of `src` in `wrt` (arrays stand for their elements).
fn build(src: &str, wrt: &[String]) -> Tape {
    let mut f = Formula::parse(src).unwrap();
    let wrt = f.expand_names(wrt);
    f.gradient_tape(&wrt).unwrap()
}

fn spellings() -> [(&'static str, String, Vec<String>); 2] {
    let (scalar, scalar_wrt) = mlp::scalar(50, 128);
    let (arrays, arrays_wrt) = mlp::arrays(50, 128);
    [("scalar", scalar, scalar_wrt), ("arrays", arrays, arrays_wrt)]
}

fn bench_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp_50x128_build");
    group.sample_size(20);
    for (name, src, wrt) in spellings() {
        group.bench_function(format!("{name}/parse_lower"), |b| {
            b.iter(|| Formula::parse(black_box(&src)).unwrap())
        });
        group.bench_function(format!("{name}/gradient_tape"), |b| {
            b.iter(|| build(black_box(&src), &wrt))
        });
    }
    group.finish();
}

fn bench_eval(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp_50x128_eval");
    for (name, src, wrt) in spellings() {
        let tape = build(&src, &wrt);
        let point: Vec<f64> =
            (0..tape.inputs().len()).map(|i| ((i * 37) % 101) as f64 / 101.0 - 0.5).collect();
        let mut registers = Vec::new();
        let mut out = vec![0.0; tape.outputs()];
        group.bench_function(format!("{name}/value_and_gradient"), |b| {
            b.iter(|| tape.run_into(black_box(&point), &mut registers, &mut out))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_build, bench_eval);
criterion_main!(benches);
