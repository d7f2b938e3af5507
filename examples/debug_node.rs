//! Shows the structure of a derivative: `cargo run --example debug_node -- FORMULA VAR`.
use chainrule::Formula;

fn main() {
    let src = std::env::args().nth(1).unwrap();
    let var = std::env::args().nth(2).unwrap_or_else(|| "x".into());
    let mut f = Formula::parse(&src).unwrap();
    let d = f.derivative(&var, 1).unwrap();
    let order = chainrule::graph::walk::reachable(&f.graph, &[d]);
    for n in order {
        let node = f.graph.node(n);
        println!(
            "{:?} = {:?} {:?}   # {}",
            n,
            node.op,
            node.args.as_slice(),
            f.text(n)
        );
    }
}
