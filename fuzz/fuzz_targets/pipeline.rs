//! Valid formulas from a structured generator through the whole pipeline, with the checks
//! of `chainrule::check::round_trip`: the printed formula and the printed derivative parse
//! back to the same graph nodes; reusing registers changes no bit of any result; nothing
//! panics. (Fused and unfused tapes may differ in the last bit: `a / b` rounds once where
//! `a * (1/b)` rounds twice, and next to a domain edge, as in `acos(-x/x)`, that
//! difference is amplified; so only register reuse is compared bit for bit.) Every program
//! declares arrays and defines functions of them, and the generator mixes scalars with
//! vectors (SPEC "Arrays"): elements, reductions, `@`, builders, indexed sums, calls.
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
    // Scalars from arrays (SPEC "Arrays"): a reduction, an element, `dot`, an indexed sum, a
    // quadratic form, a user function of a scalar and a vector.
    Reduce3(u8, Box<Vector>),
    Element(Box<Vector>, u8),
    Dot(Box<Vector>, Box<Vector>),
    IndexedSum(Box<Vector>, Box<Vector>),
    Quadratic(Box<Vector>),
    User(Box<Expr>, Box<Vector>),
}

/// A vector of 3 (the program declares `u: [3]; W: [2, 3]; A: [3, 3]`).
#[derive(Arbitrary, Debug)]
enum Vector {
    U,
    Row(bool),
    Column(u8),
    List(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(u8, Box<Vector>),
    Add(Box<Vector>, Box<Vector>),
    Mul(Box<Vector>, Box<Vector>),
    Scale(Box<Expr>, Box<Vector>),
    MatVec(Box<Vector>),
    VecMat(Box<Vector>),
    Softmax(Box<Vector>),
    Builder(Box<Vector>),
    User(Box<Vector>),
    Transposed(Box<Vector>, Box<Vector>),
}

/// What every generated program starts with: the arrays and the user functions the
/// [`Vector`] forms use. (The scalar variables stay `x`, `y`, `z`.)
const PRELUDE: &str = "u: [3]; W: [2, 3]; A: [3, 3]\ng(a) = sin(a) + a*a\nh(s, a) = s*sum(a) + dot(a, u)\n";

const ARRAY_REDUCERS: [&str; 7] = ["sum", "mean", "prod", "max", "min", "logsumexp", "norm"];

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
                    Args::List | Args::TwoLists { .. } | Args::TwoArrays => false,
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
        Expr::Reduce3(f, v) => {
            out.push_str(ARRAY_REDUCERS[*f as usize % ARRAY_REDUCERS.len()]);
            out.push('(');
            vector(v, d, out);
            out.push(')');
        }
        Expr::Element(v, k) => {
            out.push('(');
            vector(v, d, out);
            out.push_str(&format!(")[{}]", k % 3 + 1));
        }
        Expr::Dot(a, b) => {
            out.push_str("dot(");
            vector(a, d, out);
            out.push_str(", ");
            vector(b, d, out);
            out.push(')');
        }
        Expr::IndexedSum(a, b) => {
            out.push_str("sum(i = 1..3, j = i..3, (");
            vector(a, d, out);
            out.push_str(")[i]*(");
            vector(b, d, out);
            out.push_str(")[j])");
        }
        Expr::Quadratic(v) => {
            out.push('(');
            vector(v, d, out);
            out.push_str(" @ A @ ");
            vector(v, d, out);
            out.push(')');
        }
        Expr::User(a, v) => {
            out.push_str("h(");
            text(a, d, out);
            out.push_str(", ");
            vector(v, d, out);
            out.push(')');
        }
    }
}

/// The text of a vector of 3, nesting cut off at `depth` 0 (`u` stands there instead).
fn vector(v: &Vector, depth: u32, out: &mut String) {
    if depth == 0 {
        out.push('u');
        return;
    }
    let d = depth - 1;
    let one = |name: &str, a: &Vector, out: &mut String| {
        out.push_str(name);
        out.push('(');
        vector(a, d, out);
        out.push(')');
    };
    let two = |a: &Vector, op: &str, b: &Vector, out: &mut String| {
        out.push('(');
        vector(a, d, out);
        out.push_str(op);
        vector(b, d, out);
        out.push(')');
    };
    match v {
        Vector::U => out.push('u'),
        Vector::Row(second) => out.push_str(if *second { "W[2, :]" } else { "W[1, :]" }),
        Vector::Column(k) => out.push_str(&format!("A[:, {}]", k % 3 + 1)),
        Vector::List(a, b, c) => {
            out.push('[');
            text(a, d, out);
            out.push_str(", ");
            text(b, d, out);
            out.push_str(", ");
            text(c, d, out);
            out.push(']');
        }
        Vector::Call(f, a) => {
            let names = callables(1);
            one(names[*f as usize % names.len()], a, out)
        }
        Vector::Add(a, b) => two(a, " + ", b, out),
        Vector::Mul(a, b) => two(a, "*", b, out),
        // Every vector form is closed in brackets: `*` and `@` share a precedence level.
        Vector::Scale(s, a) => {
            out.push_str("((");
            text(s, d, out);
            out.push_str(")*");
            one("", a, out);
            out.push(')');
        }
        Vector::MatVec(a) => {
            out.push('(');
            one("A @ ", a, out);
            out.push(')');
        }
        Vector::VecMat(a) => {
            out.push('(');
            one("", a, out);
            out.push_str(" @ A)");
        }
        Vector::Softmax(a) => one("softmax", a, out),
        Vector::Builder(a) => {
            out.push_str("[(");
            vector(a, d, out);
            out.push_str(")[i]*i for i = 1..3]");
        }
        Vector::User(a) => one("g", a, out),
        Vector::Transposed(a, b) => {
            out.push_str("(transpose(outer(");
            vector(a, d, out);
            out.push_str(", ");
            vector(b, d, out);
            out.push_str(")) @ u)");
        }
    }
}

fuzz_target!(|e: Expr| {
    let mut src = String::from(PRELUDE);
    text(&e, 12, &mut src);
    if let Err(broken) = chainrule::check::round_trip(&src, 500_000) {
        panic!("{broken}");
    }
});
