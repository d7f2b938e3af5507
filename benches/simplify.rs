//! The cost of simplification on two large gradients: a 10-32-1 network (tanh hidden units,
//! sigmoid output, bce loss; 385 parameters) and a chain of 1,000 nested functions. Each is
//! differentiated and simplified as `grad` prints it (`Simplify::Printed`: the tidying for
//! print runs on graphs up to its size limit) and as `eval` compiles it
//! (`Simplify::Together`: the canonical pass over value and gradient together).
//! Run with `cargo bench --bench simplify`.

use chainrule::{Formula, Request, Simplify};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

/// An `inputs`-`hidden`-1 net: tanh hidden units, sigmoid output, bce loss.
fn network(inputs: usize, hidden: usize) -> String {
    let mut s = String::new();
    for j in 1..=hidden {
        let sum: Vec<String> = (1..=inputs).map(|i| format!("w{j}_{i}*x{i}")).collect();
        s.push_str(&format!("h{j} = tanh({} + b{j})\n", sum.join(" + ")));
    }
    let out: Vec<String> = (1..=hidden).map(|j| format!("v{j}*h{j}")).collect();
    s.push_str(&format!("out = sigmoid({} + c)\nbce(out, y)\n", out.join(" + ")));
    s
}

/// `f(f(...f(x)))`, `depth` deep, `f` cycling through sin, cos and exp(-.) from the inside.
fn chain(depth: usize) -> String {
    (0..depth).fold("x".to_string(), |inner, i| match i % 3 {
        0 => format!("sin({inner})"),
        1 => format!("cos({inner})"),
        _ => format!("exp(-{inner})"),
    })
}

/// Every parameter of the net (not its inputs `x1..` or label `y`), or every variable.
fn wrt(formula: &Formula) -> Vec<String> {
    let names = formula.var_names();
    let params = names.iter().filter(|n| !n.starts_with('x') && **n != "y");
    let params: Vec<String> = params.map(|n| n.to_string()).collect();
    if params.is_empty() {
        names.into_iter().map(str::to_string).collect()
    } else {
        params
    }
}

fn bench_case(c: &mut Criterion, name: &str, source: &str) {
    let parsed = Formula::parse(source).unwrap();
    let wrt = wrt(&parsed);
    for (how, simplify) in [("printed", Simplify::Printed), ("together", Simplify::Together)] {
        c.bench_function(&format!("simplify/{name}/{how}"), |b| {
            b.iter_batched(
                || parsed.clone(),
                |mut f| {
                    let ids = f.ids(&wrt);
                    black_box(f.derive(&Request::new(ids).simplify(simplify)).unwrap())
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
}

fn benches(c: &mut Criterion) {
    bench_case(c, "net_10x32", &network(10, 32));
    bench_case(c, "chain_1000", &chain(1000));
}

criterion_group! {
    name = simplify;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(simplify);
