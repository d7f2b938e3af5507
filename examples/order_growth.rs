//! How higher derivatives grow: `cargo run --release --example order_growth -- FORMULA N`.
use chainrule::{diff, simplify, Formula};
use std::time::Instant;

fn main() {
    let src = std::env::args().nth(1).unwrap();
    let n: usize = std::env::args().nth(2).map_or(8, |s| s.parse().unwrap());
    let mut f = Formula::parse(&src).unwrap();
    let x = f.var("x");
    let (mut raw, mut simple) = (f.root, f.root);
    for order in 1..=n {
        let t = Instant::now();
        raw = diff::grad(&mut f.graph, raw, &[x]).unwrap()[0];
        let raw_size = chainrule::graph::walk::reachable(&f.graph, &[raw]).len();
        let d = diff::grad(&mut f.graph, simple, &[x]).unwrap()[0];
        simple = simplify::simplify_one(&mut f.graph, d).unwrap();
        let simple_size = chainrule::graph::walk::reachable(&f.graph, &[simple]).len();
        println!("order {order}: raw {raw_size} nodes, simplified each order {simple_size} nodes, graph {} ({:?})", f.graph.len(), t.elapsed());
    }
    let t = Instant::now();
    let once = simplify::simplify_one(&mut f.graph, raw).unwrap();
    let size = chainrule::graph::walk::reachable(&f.graph, &[once]).len();
    println!(
        "raw order {n} simplified once: {size} nodes ({:?})",
        t.elapsed()
    );
    let t = Instant::now();
    let text = f.text(once);
    println!("printed: {} bytes ({:?})", text.len(), t.elapsed());
}
