//! Times each phase on a formula file: `cargo run --release --example phase_times -- FILE`.
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("a formula file");
    let src = std::fs::read_to_string(path).unwrap();
    let t = Instant::now();
    let program = chainrule::syntax::parse(&src).unwrap();
    println!("pest + syntax tree: {:?}", t.elapsed());
    let t = Instant::now();
    let mut g = chainrule::Graph::new();
    let lowered = chainrule::graph::lower::lower(&mut g, &program).unwrap();
    println!("lowering: {:?} ({} nodes)", t.elapsed(), g.len());
    let t = Instant::now();
    drop(program);
    println!("dropping the tree: {:?}", t.elapsed());
    let vars: Vec<_> = lowered.vars.iter().map(|&v| g.var_node(v)).collect();
    let t = Instant::now();
    let grad = chainrule::diff::grad(&mut g, lowered.root, &vars).unwrap();
    println!("gradient: {:?} ({} nodes)", t.elapsed(), g.len());
    let t = Instant::now();
    let s = chainrule::simplify::simplify(&mut g, &grad).unwrap();
    println!("simplify: {:?} ({} nodes)", t.elapsed(), g.len());
    let t = Instant::now();
    let together: Vec<_> = std::iter::once(lowered.root).chain(grad.iter().copied()).collect();
    let joint = chainrule::simplify::simplify(&mut g, &together).unwrap();
    println!("simplify value and gradient together: {:?} ({} nodes)", t.elapsed(), g.len());
    let t = Instant::now();
    let tape = chainrule::eval::compile(&g, &joint, &lowered.vars).unwrap();
    println!("compile: {:?} ({} instructions)", t.elapsed(), tape.len());
    let t = Instant::now();
    let text = chainrule::print::text(&g, s[0]);
    println!("print: {:?} ({} bytes)", t.elapsed(), text.len());
}
