//! Valid formulas from a structured generator through the whole pipeline, with the checks
//! of `chainrule::check::round_trip`: the printed formula and the printed derivative parse
//! back to the same graph nodes; reusing registers changes no bit of any result; nothing
//! panics. (Fused and unfused tapes may differ in the last bit: `a / b` rounds once where
//! `a * (1/b)` rounds twice, and next to a domain edge, as in `acos(-x/x)`, that
//! difference is amplified; so only register reuse is compared bit for bit.)
#![no_main]

use arbitrary::Arbitrary;
use chainrule::operators::callables::{Args, CALLABLES};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

#[derive(Arbitrary, Debug)]
enum Expr {
    Var(u8),
    Const(i16),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
    Mul(Box<Expr>, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Pow(Box<Expr>, i8),
    PowExpr(Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Call(u8, Box<Expr>),
    Call2(u8, Box<Expr>, Box<Expr>),
    Reduce(u8, Vec<Expr>),
    Call3(u8, Box<Expr>, Box<Expr>, Box<Expr>),
}

const REDUCERS: [&str; 4] = ["sum", "mean", "logsumexp", "mse"];

/// The names callable with `n` numbers, from the operator table: every function row of that
/// arity, its aliases, and `log`, `pow` (the reducers take lists: see [`REDUCERS`]).
fn callables(n: usize) -> &'static [&'static str] {
    static BY_ARITY: OnceLock<[Vec<&'static str>; 4]> = OnceLock::new();
    let all = BY_ARITY.get_or_init(|| {
        [0, 1, 2, 3].map(|n| {
            CALLABLES
                .iter()
                .filter(|c| match c.args {
                    Args::Numbers(k) => k == n,
                    Args::OneOrTwoNumbers => n == 1 || n == 2,
                    Args::List | Args::TwoLists { .. } => false,
                })
                .map(|c| c.name)
                .collect()
        })
    });
    &all[n]
}

/// `name(args)` with `name` the `pick`-th callable of `args.len()` numbers.
fn call(pick: u8, args: &[&Expr], depth: u32, out: &mut String) {
    let names = callables(args.len());
    out.push_str(names[pick as usize % names.len()]);
    out.push('(');
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        text(a, depth, out);
    }
    out.push(')');
}

/// The formula text, with nesting cut off at `depth` 0 (a variable stands there instead).
fn text(e: &Expr, depth: u32, out: &mut String) {
    if depth == 0 {
        out.push('x');
        return;
    }
    let d = depth - 1;
    let bin = |a: &Expr, op: &str, b: &Expr, out: &mut String| {
        out.push('(');
        text(a, d, out);
        out.push_str(op);
        text(b, d, out);
        out.push(')');
    };
    match e {
        Expr::Var(v) => out.push_str(["x", "y", "z"][*v as usize % 3]),
        Expr::Const(c) => out.push_str(&format!("{}", *c as f64 / 16.0)),
        Expr::Add(a, b) => bin(a, " + ", b, out),
        Expr::Sub(a, b) => bin(a, " - ", b, out),
        Expr::Mul(a, b) => bin(a, "*", b, out),
        Expr::Div(a, b) => bin(a, "/", b, out),
        Expr::PowExpr(a, b) => bin(a, "^", b, out),
        Expr::Pow(a, n) => {
            out.push('(');
            text(a, d, out);
            out.push_str(&format!(")^{}", n % 5));
        }
        Expr::Neg(a) => {
            out.push_str("-(");
            text(a, d, out);
            out.push(')');
        }
        Expr::Call(f, a) => call(*f, &[a], d, out),
        Expr::Call2(f, a, b) => call(*f, &[a, b], d, out),
        Expr::Call3(f, a, b, c) => call(*f, &[a, b, c], d, out),
        Expr::Reduce(f, items) if !items.is_empty() => {
            let name = REDUCERS[*f as usize % REDUCERS.len()];
            let list = |out: &mut String| {
                out.push('[');
                for (i, item) in items.iter().take(6).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    text(item, d, out);
                }
                out.push(']');
            };
            out.push_str(name);
            out.push('(');
            list(out);
            if name == "mse" {
                out.push_str(", ");
                list(out);
            }
            out.push(')');
        }
        Expr::Reduce(..) => out.push('y'),
    }
}

fuzz_target!(|e: Expr| {
    let mut src = String::new();
    text(&e, 12, &mut src);
    if let Err(broken) = chainrule::check::round_trip(&src, 500_000) {
        panic!("{broken}");
    }
});
