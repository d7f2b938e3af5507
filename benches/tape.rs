//! chainrule's tape against hand-written Rust for the value and gradient of three formulas:
//! the XOR net (2-4-1, sigmoid, bce), a 10-32-1 net (tanh hidden, sigmoid out, bce) and
//! Rosenbrock in 100 variables; at one point and reduced over 10,000 rows. At one point,
//! also the Rust that `chainrule codegen` generates for each (`benches/generated/`, checked
//! against the generator at start; `CHAINRULE_BLESS=1` rewrites them). Then the tape and
//! native code alone on three benchmark families (nest 1000, sumsin 1000, Rosenbrock 1000),
//! at one point and per row of a batch on one thread.
//! Run with `cargo bench --bench tape`.

// The hand-written gradients index arrays the way the textbook formulas do.
#![allow(clippy::needless_range_loop)]

use chainrule::eval::{compile_native, Column, NativeTape, Reduce, Tape};
use chainrule::Formula;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

mod generated {
    include!("generated/xor_2_4_1.rs");
    include!("generated/net_10_32_1.rs");
    include!("generated/rosenbrock100.rs");
}

/// A generated function: `(input, grad) -> value`.
type Generated = fn(&[f64], &mut [f64]) -> f64;

/// Checks that `benches/generated/NAME.rs` is what the generator makes of `src` today.
fn check_generated(name: &str, src: &str, wrt: &[String]) {
    use chainrule::codegen::{generate, Lang, Options};
    let wrt: Vec<&str> = wrt.iter().map(String::as_str).collect();
    let mut f = Formula::parse(src).unwrap();
    let code = generate(&mut f, &Options::new(Lang::Rust).name(name).wrt(&wrt)).unwrap();
    let path = format!("{}/benches/generated/{name}.rs", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("CHAINRULE_BLESS").is_some() {
        std::fs::write(&path, &code).unwrap();
    }
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved == code, "{path} is stale: rerun with CHAINRULE_BLESS=1, then rebuild");
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

// ------------------------------------------------------------------ the formulas as text

/// An `inputs`-`hidden`-1 net: `act` hidden units, sigmoid output, bce loss.
fn network(inputs: usize, hidden: usize, act: &str) -> String {
    let mut s = String::new();
    for j in 1..=hidden {
        let sum: Vec<String> = (1..=inputs).map(|i| format!("w{j}_{i}*x{i}")).collect();
        s.push_str(&format!("h{j} = {act}({} + b{j})\n", sum.join(" + ")));
    }
    let out: Vec<String> = (1..=hidden).map(|j| format!("v{j}*h{j}")).collect();
    s.push_str(&format!("out = sigmoid({} + c)\nbce(out, y)\n", out.join(" + ")));
    s
}

fn network_params(inputs: usize, hidden: usize) -> Vec<String> {
    let mut p = Vec::new();
    for j in 1..=hidden {
        p.extend((1..=inputs).map(|i| format!("w{j}_{i}")));
        p.push(format!("b{j}"));
    }
    p.extend((1..=hidden).map(|j| format!("v{j}")));
    p.push("c".into());
    p
}

fn rosenbrock(n: usize) -> String {
    let terms: Vec<String> =
        (1..n).map(|i| format!("100*(x{} - x{i}^2)^2 + (1 - x{i})^2", i + 1)).collect();
    terms.join(" + ")
}

// ------------------------------------------------------------------ hand-written gradients

/// Weights of an `I`-`H`-1 net, in the order of `network_params`.
struct Net {
    inputs: usize,
    hidden: usize,
    w: Vec<f64>, // hidden x inputs
    b: Vec<f64>,
    v: Vec<f64>,
    c: f64,
}

impl Net {
    fn new(inputs: usize, hidden: usize) -> Net {
        let wave = |k: usize| ((k as f64) * 0.7).sin() * 0.5;
        Net {
            inputs,
            hidden,
            w: (0..inputs * hidden).map(wave).collect(),
            b: (0..hidden).map(|k| wave(k + 1000)).collect(),
            v: (0..hidden).map(|k| wave(k + 2000)).collect(),
            c: 0.1,
        }
    }

    fn params(&self) -> Vec<f64> {
        let mut p = Vec::new();
        for j in 0..self.hidden {
            p.extend_from_slice(&self.w[j * self.inputs..(j + 1) * self.inputs]);
            p.push(self.b[j]);
        }
        p.extend_from_slice(&self.v);
        p.push(self.c);
        p
    }

    /// Loss and gradient (accumulated into `grad`, in `network_params` order).
    fn value_grad(&self, x: &[f64], y: f64, tanh: bool, h: &mut [f64], grad: &mut [f64]) -> f64 {
        let (ni, nh) = (self.inputs, self.hidden);
        let mut z = self.c;
        for j in 0..nh {
            let mut a = self.b[j];
            for i in 0..ni {
                a += self.w[j * ni + i] * x[i];
            }
            h[j] = if tanh { a.tanh() } else { sigmoid(a) };
            z += self.v[j] * h[j];
        }
        let o = sigmoid(z);
        let loss = -(y * o.ln() + (1.0 - y) * (1.0 - o).ln());
        let dz = o - y;
        for j in 0..nh {
            grad[nh * (ni + 1) + j] += dz * h[j];
            let dh = dz * self.v[j];
            let da = if tanh { dh * (1.0 - h[j] * h[j]) } else { dh * h[j] * (1.0 - h[j]) };
            for i in 0..ni {
                grad[j * (ni + 1) + i] += da * x[i];
            }
            grad[j * (ni + 1) + ni] += da;
        }
        grad[nh * (ni + 2)] += dz;
        loss
    }
}

fn rosenbrock_value_grad(x: &[f64], grad: &mut [f64]) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len() - 1 {
        let t = x[i + 1] - x[i] * x[i];
        let s = 1.0 - x[i];
        f += 100.0 * t * t + s * s;
        grad[i] += -400.0 * x[i] * t - 2.0 * s;
        grad[i + 1] += 200.0 * t;
    }
    f
}

// ------------------------------------------------------------------ tapes

struct Case {
    tape: Tape,
    native: NativeTape,
    /// The formula's variables, in the tape's input order.
    vars: Vec<String>,
}

fn case(src: &str, wrt: &[String]) -> Case {
    let mut f = Formula::parse(src).unwrap();
    let tape = f.gradient_tape(wrt).unwrap();
    let native = compile_native(&tape).unwrap();
    Case { tape, native, vars: f.var_names().into_iter().map(str::to_string).collect() }
}

/// The tape's input vector from named values.
fn inputs(case: &Case, named: &[(String, f64)]) -> Vec<f64> {
    case.vars.iter().map(|v| named.iter().find(|(n, _)| n == v).unwrap().1).collect()
}

fn net_inputs(net: &Net, x: &[f64], y: f64) -> Vec<(String, f64)> {
    let mut named: Vec<(String, f64)> =
        network_params(net.inputs, net.hidden).into_iter().zip(net.params()).collect();
    named.extend(x.iter().enumerate().map(|(i, &v)| (format!("x{}", i + 1), v)));
    named.push(("y".into(), y));
    named
}

/// Rows of a data set for a net: inputs and labels.
fn net_rows(inputs: usize, rows: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
    let xs = (0..inputs)
        .map(|i| (0..rows).map(|r| ((r * 7 + i * 3) % 11) as f64 / 10.0 - 0.5).collect())
        .collect();
    let ys = (0..rows).map(|r| (r % 2) as f64).collect();
    (xs, ys)
}

fn bench_network(
    c: &mut Criterion,
    name: &str,
    ni: usize,
    nh: usize,
    tanh: bool,
    generated: Generated,
) {
    let net = Net::new(ni, nh);
    let params = network_params(ni, nh);
    let src = network(ni, nh, if tanh { "tanh" } else { "sigmoid" });
    check_generated(name, &src, &params);
    let case = case(&src, &params);
    let x: Vec<f64> = (0..ni).map(|i| 0.3 + 0.1 * i as f64).collect();
    let point = inputs(&case, &net_inputs(&net, &x, 1.0));
    let mut h = vec![0.0; nh];
    let mut grad = vec![0.0; params.len()];

    // Same numbers both ways, before timing anything.
    let mut out = vec![0.0; case.tape.outputs()];
    case.tape.run_into(&point, &mut Vec::new(), &mut out);
    let loss = net.value_grad(&x, 1.0, tanh, &mut h, &mut grad);
    assert!(
        (out[0] - loss).abs() < 1e-12
            && (out[1..].iter().zip(&grad)).all(|(a, b)| (a - b).abs() < 1e-12)
    );

    time_point(c, name, &case, &point, generated, || {
        grad.iter_mut().for_each(|g| *g = 0.0);
        black_box(net.value_grad(black_box(&x), 1.0, tanh, &mut h, &mut grad));
    });

    let rows = 10_000;
    let (xs, ys) = net_rows(ni, rows);
    let columns: Vec<Column<f64>> = case
        .vars
        .iter()
        .map(|v| match (v.strip_prefix('x').and_then(|i| i.parse::<usize>().ok()), v.as_str()) {
            (Some(i), _) => Column::Rows(&xs[i - 1]),
            (None, "y") => Column::Rows(&ys),
            _ => Column::Fixed(point[case.vars.iter().position(|n| n == v).unwrap()]),
        })
        .collect();
    time_rows(c, name, &case, &columns, rows, Reduce::Mean, || {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut total = 0.0;
        let mut row = vec![0.0; ni];
        for r in 0..rows {
            row.iter_mut().enumerate().for_each(|(i, v)| *v = xs[i][r]);
            total += net.value_grad(&row, ys[r], tanh, &mut h, &mut grad);
        }
        black_box(total / rows as f64);
    });
}

fn bench_rosenbrock(c: &mut Criterion) {
    let n = 100;
    let names: Vec<String> = (1..=n).map(|i| format!("x{i}")).collect();
    check_generated("rosenbrock100", &rosenbrock(n), &names);
    let case = case(&rosenbrock(n), &names);
    let x: Vec<f64> = (0..n).map(|i| 0.5 + 0.01 * i as f64).collect();
    let point = inputs(&case, &names.iter().cloned().zip(x.iter().copied()).collect::<Vec<_>>());
    let mut grad = vec![0.0; n];
    let mut out = vec![0.0; case.tape.outputs()];
    case.tape.run_into(&point, &mut Vec::new(), &mut out);
    let f = rosenbrock_value_grad(&x, &mut grad);
    assert!((out[0] - f).abs() < 1e-9 * f.abs());
    for (i, v) in case.vars.iter().enumerate() {
        let k: usize = v[1..].parse().unwrap();
        assert!((out[k] - grad[k - 1]).abs() < 1e-9 * grad[k - 1].abs().max(1.0), "{i}");
    }

    time_point(c, "rosenbrock100", &case, &point, generated::rosenbrock100, || {
        grad.iter_mut().for_each(|g| *g = 0.0);
        black_box(rosenbrock_value_grad(black_box(&x), &mut grad));
    });

    let rows = 10_000;
    let data: Vec<Vec<f64>> =
        (0..n).map(|i| (0..rows).map(|r| ((r + i) % 17) as f64 / 8.0 - 1.0).collect()).collect();
    let columns: Vec<Column<f64>> = case
        .vars
        .iter()
        .map(|v| Column::Rows(&data[v[1..].parse::<usize>().unwrap() - 1]))
        .collect();
    time_rows(c, "rosenbrock100", &case, &columns, rows, Reduce::Sum, || {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut total = 0.0;
        let mut row = vec![0.0; n];
        for r in 0..rows {
            row.iter_mut().enumerate().for_each(|(i, v)| *v = data[i][r]);
            total += rosenbrock_value_grad(&row, &mut grad);
        }
        black_box(total);
    });
}

/// One point: the hand-written function against the tape, its native code and the
/// generated Rust, which are first checked to agree with the interpreter (native code to
/// the bit).
fn time_point(
    c: &mut Criterion,
    name: &str,
    case: &Case,
    point: &[f64],
    generated: Generated,
    mut handwritten: impl FnMut(),
) {
    let mut out = vec![0.0; case.tape.outputs()];
    let mut native_out = vec![0.0; case.tape.outputs()];
    let mut registers = Vec::new();
    case.tape.run_into(point, &mut registers, &mut out);
    case.native.run_into(point, &mut native_out);
    assert_eq!(native_out, out, "native code and interpreter agree to the bit");
    let mut grad = vec![0.0; out.len() - 1];
    let value = generated(point, &mut grad);
    let agree = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
    assert!(agree(value, out[0]) && grad.iter().zip(&out[1..]).all(|(&a, &b)| agree(a, b)));
    let mut group = c.benchmark_group(format!("point/{name}"));
    group.bench_function("handwritten", |bch| bch.iter(&mut handwritten));
    group.bench_function("tape", |bch| {
        bch.iter(|| case.tape.run_into(black_box(point), &mut registers, &mut out))
    });
    group.bench_function("native", |bch| {
        bch.iter(|| case.native.run_into(black_box(point), &mut native_out))
    });
    group.bench_function("generated", |bch| {
        bch.iter(|| black_box(generated(black_box(point), &mut grad)))
    });
    group.finish();
}

/// 10,000 rows: the hand-written loop against the tape and its native code, on rayon's
/// threads and on one thread.
fn time_rows(
    c: &mut Criterion,
    name: &str,
    case: &Case,
    columns: &[Column<f64>],
    rows: usize,
    reduce: Reduce,
    mut handwritten: impl FnMut(),
) {
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut group = c.benchmark_group(format!("rows10k/{name}"));
    group.bench_function("handwritten", |bch| bch.iter(&mut handwritten));
    group.bench_function("tape", |bch| {
        bch.iter(|| black_box(case.tape.run_batch(columns, rows, reduce)))
    });
    group.bench_function("native", |bch| {
        bch.iter(|| black_box(case.native.run_batch(columns, rows, reduce)))
    });
    group.bench_function("tape_1_thread", |bch| {
        bch.iter(|| one_thread.install(|| black_box(case.tape.run_batch(columns, rows, reduce))))
    });
    group.bench_function("native_1_thread", |bch| {
        bch.iter(|| one_thread.install(|| black_box(case.native.run_batch(columns, rows, reduce))))
    });
    group.finish();
}

/// `f(f(...f(x)))`, `depth` deep, `f` cycling sin, cos, exp(-.) from the inside (the
/// benchmark's `nest` family).
fn nest(depth: usize) -> String {
    (0..depth).fold("x".to_string(), |s, i| match i % 3 {
        0 => format!("sin({s})"),
        1 => format!("cos({s})"),
        _ => format!("exp(-{s})"),
    })
}

/// `k` terms `sin(a*x + b)` with numeric `a` in [0.5, 1.5) and `b` in [-1, 1) (the
/// benchmark's `sumsin` family, with coefficients of its own).
fn sumsin(k: usize) -> String {
    let term = |i: usize| {
        let (a, b) = (0.5 + (i as f64 * 0.618_034) % 1.0, (i as f64 * 0.414_214) % 2.0 - 1.0);
        format!("sin({a:.4}*x + {b:.4})")
    };
    (0..k).map(term).collect::<Vec<_>>().join(" + ")
}

/// The benchmark families that issue 13 sets per-row targets for: value and gradient at one
/// point, and per row of a batch on one thread (`Throughput`: criterion prints rows/s).
fn bench_families(c: &mut Criterion) {
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    for (name, src, rows) in [
        ("nest_1000", nest(1000), 4096),
        ("sumsin_1000", sumsin(1000), 4096),
        ("rosen_1000", rosenbrock(1000), 1024),
    ] {
        let f = Formula::parse(&src).unwrap();
        let names: Vec<String> = f.var_names().into_iter().map(str::to_string).collect();
        let case = case(&src, &names);
        let data: Vec<Vec<f64>> = (0..names.len())
            .map(|i| (0..rows).map(|r| ((r * 7 + i) % 23) as f64 / 16.0 - 0.6).collect())
            .collect();
        let columns: Vec<Column<f64>> = data.iter().map(|d| Column::Rows(d)).collect();
        let point: Vec<f64> = data.iter().map(|d| d[0]).collect();
        let (mut out, mut registers) = (vec![0.0; case.tape.outputs()], Vec::new());
        let mut group = c.benchmark_group(format!("family/{name}"));
        group.bench_function("point_tape", |bch| {
            bch.iter(|| case.tape.run_into(black_box(&point), &mut registers, &mut out))
        });
        group.bench_function("point_native", |bch| {
            bch.iter(|| case.native.run_into(black_box(&point), &mut out))
        });
        group.throughput(criterion::Throughput::Elements(rows as u64));
        let batch = |tape: bool| {
            one_thread.install(|| match tape {
                true => case.tape.run_batch(&columns, rows, Reduce::Sum),
                false => case.native.run_batch(&columns, rows, Reduce::Sum),
            })
        };
        group.bench_function("rows_tape_1_thread", |bch| bch.iter(|| black_box(batch(true))));
        group.bench_function("rows_native_1_thread", |bch| bch.iter(|| black_box(batch(false))));
        group.finish();
    }
}

fn benches(c: &mut Criterion) {
    bench_network(c, "xor_2_4_1", 2, 4, false, generated::xor_2_4_1);
    bench_network(c, "net_10_32_1", 10, 32, true, generated::net_10_32_1);
    bench_rosenbrock(c);
    bench_families(c);
}

criterion_group! {
    name = tape;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}
criterion_main!(tape);
