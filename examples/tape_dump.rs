//! Prints the tape of a formula's value and gradient:
//! `cargo run --example tape_dump -- "x*y + sin(x)" [raw]`.
use chainrule::{diff, eval, simplify, Formula};

fn main() {
    let src = std::env::args().nth(1).unwrap_or_else(|| "x*y + sin(x*y)".into());
    let raw = std::env::args().nth(2).as_deref() == Some("raw");
    let mut f = Formula::parse(&src).unwrap();
    let vars = f.var_nodes();
    let mut roots = vec![f.root];
    roots.extend(diff::grad(&mut f.graph, f.root, &vars).unwrap());
    if !raw {
        roots = simplify::simplify(&mut f.graph, &roots).unwrap();
    }
    let tape = eval::compile(&f.graph, &roots, &f.vars).unwrap();
    print!("{tape}");
    eprintln!("{} instructions, {} registers", tape.len(), tape.registers());
}
