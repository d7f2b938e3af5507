//! Native code at every size: small tapes (one optimised function), long ones (many
//! functions, values passed through memory) and very long argument lists, against the
//! interpreter bit for bit and against closed forms.
#![cfg(feature = "native")]

use chainrule::eval::{self, Column, Reduce, Tape};
use chainrule::Formula;

/// The bits of `values`, NaNs all alike.
fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() }).collect()
}

/// Runs `tape` natively and interpreted at `values` and checks they give the same bits.
fn native_run(tape: &Tape, values: &[f64]) -> Vec<f64> {
    let native = eval::compile_native(tape).unwrap();
    let mut out = vec![0.0; tape.outputs()];
    native.run_into(values, &mut out);
    let interpreted = tape.run(values, &mut Vec::new());
    assert_eq!(bits(&out), bits(&interpreted), "{} instructions", tape.len());
    out
}

/// The gradient tape of `source` with respect to every variable, and their names.
fn gradient_tape(source: &str) -> (Tape, Vec<String>) {
    let mut f = Formula::parse(source).unwrap();
    let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
    (f.gradient_tape(&names).unwrap(), names)
}

fn rosenbrock(n: usize) -> String {
    let terms: Vec<String> =
        (1..n).map(|i| format!("100*(x{} - x{i}^2)^2 + (1 - x{i})^2", i + 1)).collect();
    terms.join(" + ")
}

/// Rosenbrock's value and gradient at `x` (x[0] is x1), written out.
fn rosenbrock_closed_form(x: &[f64]) -> (f64, Vec<f64>) {
    let n = x.len();
    let mut value = 0.0;
    let mut grad = vec![0.0; n];
    for i in 0..n - 1 {
        let (u, v) = (x[i + 1] - x[i] * x[i], 1.0 - x[i]);
        value += 100.0 * u * u + v * v;
        grad[i] += -400.0 * x[i] * u - 2.0 * v;
        grad[i + 1] += 200.0 * u;
    }
    (value, grad)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-10 * (1.0 + b.abs())
}

/// From a few dozen instructions (one optimised function) to tens of thousands (many
/// functions): the interpreter's bits and the written-out gradient.
#[test]
fn rosenbrock_of_every_size_gives_the_interpreters_bits_and_its_gradient() {
    for n in [3, 100, 300, 1_500] {
        let (tape, names) = gradient_tape(&rosenbrock(n));
        let index = |name: &str| name[1..].parse::<usize>().unwrap() - 1;
        let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 19) as f64 / 9.0 - 1.0).collect();
        let values: Vec<f64> = names.iter().map(|name| x[index(name)]).collect();
        let out = native_run(&tape, &values);
        let (value, grad) = rosenbrock_closed_form(&x);
        assert!(close(out[0], value), "n = {n}: {} vs {value}", out[0]);
        for (name, &g) in names.iter().zip(&out[1..]) {
            assert!(
                close(g, grad[index(name)]),
                "n = {n}, d/d{name}: {g} vs {}",
                grad[index(name)]
            );
        }
    }
}

/// Values read far from where they are made, across calls and function boundaries: a
/// product's gradient reads every prefix product again at the end, a sum of waves calls
/// `sin` and `cos` between each use of `x`.
#[test]
fn values_read_far_away_and_across_calls_keep_their_bits() {
    let product: Vec<String> = (1..=3_000).map(|i| format!("x{i}")).collect();
    let (tape, names) = gradient_tape(&product.join("*"));
    let values: Vec<f64> = (0..names.len()).map(|i| 1.0 + (i % 5) as f64 * 1e-4).collect();
    let out = native_run(&tape, &values);
    let all: f64 = values.iter().product();
    for (&g, &v) in out[1..].iter().zip(&values) {
        assert!((g - all / v).abs() <= 1e-12 * all.abs(), "{g} vs {}", all / v);
    }
    let waves: Vec<String> = (1..=2_000).map(|k| format!("sin({k}/1000*x + y/{k})")).collect();
    let (tape, names) = gradient_tape(&waves.join(" + "));
    assert_eq!(names, ["x", "y"]);
    let out = native_run(&tape, &[0.3, -1.2]);
    let (mut dx, mut dy) = (0.0, 0.0);
    for k in 1..=2_000 {
        let (a, b) = (k as f64 / 1000.0, 1.0 / k as f64);
        let c = (a * 0.3 + -1.2 * b).cos();
        dx += a * c;
        dy += b * c;
    }
    assert!(close(out[1], dx) && close(out[2], dy), "{:?} vs {dx}, {dy}", &out[1..]);
}

/// A logsumexp of 100,000 arguments and its 100,000 partials run on a thread with a
/// 256 KiB stack (its arguments used to be gathered on the stack).
#[test]
fn a_logsumexp_of_many_arguments_runs_on_a_small_stack() {
    const N: usize = 100_000;
    let mut f = Formula::parse(&format!("x: [{N}]\nlog(sum(i = 1..{N}, exp(x[i])))")).unwrap();
    let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
    let tape = f.gradient_tape(&names).unwrap();
    assert_eq!(tape.outputs(), N + 1, "the value and a partial per element");
    let x: Vec<f64> = (0..N).map(|i| ((i * 7919) % 1000) as f64 / 100.0).collect();
    let native = eval::compile_native(&tape).unwrap();
    let (outputs, at) = (tape.outputs(), x.clone());
    let out = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut out = vec![0.0; outputs];
            native.run_into(&at, &mut out);
            out
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(bits(&out), bits(&tape.run(&x, &mut Vec::new())));
    let top = x.iter().copied().fold(f64::MIN, f64::max);
    let sum: f64 = x.iter().map(|v| (v - top).exp()).sum();
    let lse = top + sum.ln();
    assert!(close(out[0], lse), "{} vs {lse}", out[0]);
    for (&g, &v) in out[1..].iter().zip(&x).step_by(997) {
        assert!(close(g, (v - lse).exp()), "{g} vs {}", (v - lse).exp());
    }
}

/// Rows on rayon's threads, each with its own register file: the interpreter's bits.
#[test]
fn long_tapes_in_batches_give_the_interpreters_bits() {
    let (tape, names) = gradient_tape(&rosenbrock(400));
    let native = eval::compile_native(&tape).unwrap();
    let rows = 5_000;
    let data: Vec<Vec<f64>> = (0..names.len())
        .map(|i| (0..rows).map(|r| ((r * 31 + i * 17) % 23) as f64 / 11.0 - 1.0).collect())
        .collect();
    let columns: Vec<Column<f64>> = data.iter().map(|d| Column::Rows(d)).collect();
    for reduce in [Reduce::None, Reduce::Mean] {
        let interpreted = tape.run_batch(&columns, rows, reduce);
        let compiled = native.run_batch(&columns, rows, reduce);
        assert_eq!(bits(&compiled), bits(&interpreted), "{reduce:?}");
    }
}

/// A long tape's functions are built and compiled on rayon's threads: on one thread or
/// four, the interpreter's bits. A logsumexp of consecutive inputs reads them in place,
/// one of computed arguments copies them; the many partials are stored by the
/// instructions that make them, in every function.
#[test]
fn long_tapes_compiled_on_any_number_of_threads_give_the_interpreters_bits() {
    const N: usize = 3_000;
    let sources = [
        format!("x: [{N}]\nlog(sum(i = 1..{N}, exp(x[i])))"),
        format!("x: [{N}]\nlog(sum(i = 1..{N}, exp(sin(x[i]) * x[i])))"),
    ];
    for source in &sources {
        let (tape, names) = gradient_tape(source);
        assert!(tape.len() > 5_000, "a tape long enough to be cut into functions");
        let x: Vec<f64> = (0..names.len()).map(|i| ((i * 7919) % 1000) as f64 / 100.0).collect();
        let interpreted = tape.run(&x, &mut Vec::new());
        for threads in [1, 4] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let native = pool.install(|| eval::compile_native(&tape)).unwrap();
            let mut out = vec![0.0; tape.outputs()];
            native.run_into(&x, &mut out);
            assert_eq!(bits(&out), bits(&interpreted), "{threads} threads: {source}");
        }
    }
}

/// Points at the edges of every range of sigmoid's and softplus's formulas: zeros,
/// subnormals, where e^-|x| is subnormal or zero, infinities and NaN.
const EDGES: [f64; 24] = [
    0.0,
    -0.0,
    5e-324,
    -1e-300,
    0.5,
    -0.5,
    1.0,
    -20.0,
    36.7,
    -37.5,
    -707.9,
    708.0,
    -708.0,
    709.5,
    -745.0,
    745.2,
    -746.0,
    800.0,
    -1e10,
    1e300,
    f64::MAX,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

/// Native code writes sigmoid out (two at a time in a vector's lanes where two are
/// independent, `e^-|x|` shared with `sigmoid(-x)`) and shares softplus's tail with
/// `softplus(-x)`: the interpreter's bits, in one function and cut into many.
#[test]
fn written_out_sigmoids_and_shared_softplus_give_the_interpreters_bits() {
    const N: usize = 3_000;
    let short = "sigmoid(x) + 2*sigmoid(-x) + 3*sigmoid(y) + sigmoid(x*y) \
                 + softplus(x) + 5*softplus(-x) + sigmoid(x)*softplus(-y)";
    let long =
        format!("x: [{N}]\nsum(i = 1..{N}, sigmoid(x[i]) * softplus(-x[i]) + sigmoid(-x[i]))");
    // One sigmoid, with an output (d/dy) that is its input; a sigmoid of a sigmoid beside an
    // independent one; pairs beside a logsumexp whose arguments they read.
    let odd = [
        "sigmoid(x) + x*y",
        "sigmoid(sigmoid(x)) + sigmoid(y)",
        "sigmoid(x) + sigmoid(y) + logsumexp([x, y, sigmoid(x*y)])",
    ];
    for source in [short.to_string(), long].into_iter().chain(odd.map(String::from)) {
        let (tape, names) = gradient_tape(&source);
        let text = tape.to_string();
        let pairs = text.matches("sigmoid(").count() >= 3 && text.contains("softplus(");
        assert!(pairs || odd.contains(&source.as_str()) && text.contains("sigmoid("), "{text}");
        let native = eval::compile_native(&tape).unwrap();
        let mut out = vec![0.0; tape.outputs()];
        // Every pair of edges for two variables: (a, a + b) for all a and b.
        for shift in 0..EDGES.len() * EDGES.len() {
            let values: Vec<f64> = (0..names.len())
                .map(|i| EDGES[(shift + i * (shift / EDGES.len())) % EDGES.len()])
                .collect();
            native.run_into(&values, &mut out);
            let interpreted = tape.run(&values, &mut Vec::new());
            assert_eq!(bits(&out), bits(&interpreted), "{source} at {:?}", &values[..2]);
        }
    }
}
