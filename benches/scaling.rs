//! How each stage's time grows with the size of the formula: three families at 1x, 4x and
//! 16x their base size, one criterion group per stage (`scaling/parse+lower`, `/diff`,
//! `/simplify`, `/tape`, `/native`), each case's throughput set to its node count so that
//! criterion reports nodes per second (time per node: its inverse). A stage whose time per
//! node climbs from one size to the next grows faster than linearly.
//!
//! - `logsumexp`: `x: [n]; log(sum(i = 1..n, exp(x[i])))` written out, n = 10,000, with
//!   respect to every element of `x`;
//! - `sumprod`: the long sum of products `a1*b1*c1 + a2*b2*c2 + ...`, 2,500 terms;
//! - `deep`: a program of 2,500 assignments each using the previous one twice,
//!   `t2 = sin(t1)*y + t1`.
//!
//! parse+lower counts the formula's nodes, the other stages the nodes of the derivatives
//! (as `chainrule bench` counts `nodes` and `gradient_nodes`). Run with
//! `cargo bench --bench scaling` (a few minutes: 10 samples a case, a short measurement);
//! `cargo bench --bench scaling -- logsumexp` runs one family.

use chainrule::graph::walk;
use chainrule::{Derived, Formula, NodeId, Request, Simplify};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion};
use criterion::{measurement::WallTime, SamplingMode, Throughput};
use std::hint::black_box;
use std::time::Duration;

/// `x: [n]; log(sum(i = 1..n, exp(x[i])))`.
fn logsumexp(n: usize) -> String {
    format!("x: [{n}]\nlog(sum(i = 1..{n}, exp(x[i])))\n")
}

/// `a1*b1*c1 + ... + an*bn*cn`.
fn sum_of_products(n: usize) -> String {
    let terms: Vec<String> = (1..=n).map(|i| format!("a{i}*b{i}*c{i}")).collect();
    terms.join(" + ")
}

/// `t1 = sin(x)*y + x`, then `t{i} = sin(t{i-1})*y + t{i-1}` up to `n`, and `t{n}*t{n}`.
fn deep_program(n: usize) -> String {
    let mut text = String::from("t1 = sin(x)*y + x\n");
    for i in 2..=n {
        text.push_str(&format!("t{i} = sin(t{p})*y + t{p}\n", p = i - 1));
    }
    text + &format!("t{n}*t{n}\n")
}

/// A family: its name, its text of size n, and its base size.
type Family = (&'static str, fn(usize) -> String, usize);

const FAMILIES: [Family; 3] = [
    ("logsumexp", logsumexp, 10_000),
    ("sumprod", sum_of_products, 2_500),
    ("deep", deep_program, 2_500),
];

/// The sizes, as multiples of the base.
const SIZES: [usize; 3] = [1, 4, 16];

/// One case ready for every stage: its text, its formula parsed, the raw derivatives and
/// the simplified roots (value, then gradient) with the formula they were built in.
struct Case {
    name: String,
    text: String,
    parsed: Formula,
    diffed: (Formula, Derived),
    simplified: (Formula, Vec<NodeId>),
    nodes: u64,
    gradient_nodes: u64,
}

/// The raw derivatives with respect to every variable.
fn raw(formula: &mut Formula) -> Derived {
    let wrt = formula.var_ids().to_vec();
    formula.derive(&Request::new(wrt).simplify(Simplify::Raw)).unwrap()
}

fn case(name: &str, text: String) -> Case {
    let parsed = Formula::parse(&text).unwrap();
    let mut f = parsed.clone();
    let derived = raw(&mut f);
    let diffed = (f.clone(), derived.clone());
    let together = derived.simplified(f.graph_mut(), Simplify::Together).unwrap();
    let nodes = walk::reachable(parsed.graph(), parsed.outputs()).len() as u64;
    let gradient_nodes = walk::reachable(f.graph(), &together.derivatives).len() as u64;
    let name = name.to_string();
    let simplified = (f, together.roots());
    Case { name, text, parsed, diffed, simplified, nodes, gradient_nodes }
}

fn parse_lower(group: &mut BenchmarkGroup<WallTime>, case: &Case) {
    group.throughput(Throughput::Elements(case.nodes));
    group.bench_function(&case.name, |b| {
        b.iter_with_large_drop(|| Formula::parse(black_box(&case.text)).unwrap())
    });
}

fn diff(group: &mut BenchmarkGroup<WallTime>, case: &Case) {
    group.throughput(Throughput::Elements(case.gradient_nodes));
    group.bench_function(&case.name, |b| {
        b.iter_batched(|| case.parsed.clone(), |mut f| (raw(&mut f), f), BatchSize::LargeInput)
    });
}

fn simplify(group: &mut BenchmarkGroup<WallTime>, case: &Case) {
    group.throughput(Throughput::Elements(case.gradient_nodes));
    group.bench_function(&case.name, |b| {
        b.iter_batched(
            || case.diffed.clone(),
            |(mut f, d)| (d.simplified(f.graph_mut(), Simplify::Together).unwrap(), f),
            BatchSize::LargeInput,
        )
    });
}

fn tape(group: &mut BenchmarkGroup<WallTime>, case: &Case) {
    let (f, roots) = &case.simplified;
    group.throughput(Throughput::Elements(case.gradient_nodes));
    group.bench_function(&case.name, |b| b.iter_with_large_drop(|| f.compile(roots).unwrap()));
}

#[cfg(feature = "native")]
fn native(group: &mut BenchmarkGroup<WallTime>, case: &Case) {
    let (f, roots) = &case.simplified;
    let tape = f.compile(roots).unwrap();
    group.throughput(Throughput::Elements(case.gradient_nodes));
    group.bench_function(&case.name, |b| {
        b.iter_with_large_drop(|| chainrule::eval::compile_native(&tape).unwrap())
    });
}

/// The stages, each a criterion group.
type Stage = fn(&mut BenchmarkGroup<WallTime>, &Case);

fn stages() -> Vec<(&'static str, Stage)> {
    let mut stages: Vec<(&'static str, Stage)> =
        vec![("parse+lower", parse_lower), ("diff", diff), ("simplify", simplify), ("tape", tape)];
    if cfg!(feature = "native") {
        #[cfg(feature = "native")]
        stages.push(("native", native));
    }
    stages
}

fn benches(c: &mut Criterion) {
    let cases: Vec<Case> = FAMILIES
        .iter()
        .flat_map(|&(name, text, base)| {
            SIZES.iter().map(move |&k| case(&format!("{name}/{}", base * k), text(base * k)))
        })
        .collect();
    for (stage, run) in stages() {
        let mut group = c.benchmark_group(format!("scaling/{stage}"));
        // Ten runs a case (the largest take seconds each), not criterion's rising counts.
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
        group.warm_up_time(Duration::from_millis(200));
        group.measurement_time(Duration::from_secs(1));
        for case in &cases {
            run(&mut group, case);
        }
        group.finish();
    }
}

criterion_group!(scaling, benches);
criterion_main!(scaling);
