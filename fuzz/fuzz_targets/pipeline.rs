//! Valid formulas from a structured generator through the whole pipeline, with the checks
//! of `chainrule::check::round_trip`: the printed formula and the printed derivative parse
//! back to the same graph nodes; reusing registers changes no bit of any result; nothing
//! panics. (Fused and unfused tapes may differ in the last bit: `a / b` rounds once where
//! `a * (1/b)` rounds twice, and next to a domain edge, as in `acos(-x/x)`, that
//! difference is amplified; so only register reuse is compared bit for bit.)
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

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
}

const FUNCS: [&str; 18] = [
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "ln", "sqrt",
    "abs", "sigmoid", "relu", "softplus", "sign", "step",
];
const FUNCS2: [&str; 5] = ["atan2", "min", "max", "pow", "log"];
const REDUCERS: [&str; 4] = ["sum", "mean", "logsumexp", "mse"];

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
        Expr::Call(f, a) => {
            out.push_str(FUNCS[*f as usize % FUNCS.len()]);
            out.push('(');
            text(a, d, out);
            out.push(')');
        }
        Expr::Call2(f, a, b) => {
            out.push_str(FUNCS2[*f as usize % FUNCS2.len()]);
            bin(a, ", ", b, out);
        }
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
