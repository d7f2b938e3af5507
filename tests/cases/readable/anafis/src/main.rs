//! symb_anafis on one derivative of the readable-derivatives set.
//!
//! usage: readable-anafis EXPR VAR [VAR...]
//!   EXPR is in symb_anafis syntax (sympy_sizes.py translates the set's SymPy column:
//!   `**` -> `^`, `log` -> `ln`); every name in it is a known symbol (given with
//!   --symbols a,b,c before EXPR). The derivative is taken with respect to each VAR in
//!   turn (so `x x` is d2/dx2 and `y x` is d2/dydx), each step with symb_anafis's default
//!   simplification (`Diff::new()`), the way `symb_anafis::gradient` does for one variable.
//!   Prints the derivative's text (symb_anafis's Display) on one line, or exits 1 with the
//!   error on standard error. Timeouts are the caller's (one process per derivative).
use std::collections::HashSet;
use symb_anafis::{symb, Diff};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (known, rest): (HashSet<String>, &[String]) = if args.first().map(String::as_str) == Some("--symbols") {
        (args[1].split(',').filter(|s| !s.is_empty()).map(String::from).collect(), &args[2..])
    } else {
        (HashSet::new(), &args[..])
    };
    if rest.len() < 2 {
        eprintln!("usage: readable-anafis [--symbols a,b] EXPR VAR [VAR...]");
        std::process::exit(2);
    }
    let none: HashSet<String> = HashSet::new();
    let mut e = match symb_anafis::parse(&rest[0], &known, &none, None) {
        Ok(e) => e,
        Err(err) => {
            eprintln!("parse: {err}");
            std::process::exit(1);
        }
    };
    let d = Diff::new();
    for v in &rest[1..] {
        e = match d.differentiate(&e, &symb(v)) {
            Ok(e) => e,
            Err(err) => {
                eprintln!("diff: {err}");
                std::process::exit(1);
            }
        };
    }
    println!("{e}");
}
