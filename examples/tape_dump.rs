//! Prints the tape of a formula's value and gradient:
//! `cargo run --example tape_dump -- "x*y + sin(x)" [raw]`.
use chainrule::{Formula, Request, Simplify};

fn main() {
    let src = std::env::args().nth(1).unwrap_or_else(|| "x*y + sin(x*y)".into());
    let raw = std::env::args().nth(2).as_deref() == Some("raw");
    let mut f = Formula::parse(&src).unwrap();
    let how = if raw { Simplify::Raw } else { Simplify::Together };
    let request = Request::new(f.var_ids().to_vec()).simplify(how);
    let roots = f.derive(&request).unwrap().roots();
    let tape = f.compile(&roots).unwrap();
    print!("{tape}");
    eprintln!("{} instructions, {} registers", tape.len(), tape.registers());
}
