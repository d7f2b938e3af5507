//! Valid formulas from a structured generator through the whole pipeline, checking along
//! the way: the printed formula and the printed derivative parse back to the same graph
//! nodes; reusing registers changes no bit of any result; nothing panics. (Fused and
//! unfused tapes may differ in the last bit: `a / b` rounds once where `a * (1/b)` rounds
//! twice, and next to a domain edge, as in `acos(-x/x)`, that difference is amplified.)
#![no_main]

use arbitrary::Arbitrary;
use chainrule::eval::{compile, compile_with, CompileOptions};
use chainrule::graph::lower::lower;
use chainrule::{syntax, Formula};
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
    let mut f = Formula::parse(&src)
        .unwrap_or_else(|err| panic!("{src} does not parse: {}", err.render(&src)));
    f.graph.set_node_limit(500_000);
    let Ok(canonical) = f.simplified() else { return };
    let printed = f.text(canonical);
    let again = lower(&mut f.graph, &syntax::parse(&printed).expect("printed text parses"))
        .expect("and lowers")
        .root;
    assert_eq!(again, canonical, "{src} printed as {printed} parses to another node");

    let Ok(d) = f.derivative("x", 1) else { return };
    let printed_d = f.text(d);
    let again = lower(&mut f.graph, &syntax::parse(&printed_d).expect("derivative text parses"))
        .expect("and lowers")
        .root;
    assert_eq!(again, d, "d/dx of {src} printed as {printed_d} parses to another node");

    let names: Vec<String> = ["x", "y", "z"].iter().map(|s| s.to_string()).collect();
    let roots = [f.root, canonical, d];
    let fast = compile(&f.graph, &roots, &names).expect("compiles");
    let no_reuse = compile_with(
        &f.graph,
        &roots,
        &names,
        CompileOptions { fuse: true, reuse_registers: false },
    )
    .unwrap();
    for point in [[0.3f64, -0.7, 1.1], [1.9, 0.25, -2.5]] {
        let a = fast.run(&point, &mut Vec::new());
        let b = no_reuse.run(&point, &mut Vec::new());
        let same =
            a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits() || x.is_nan() && y.is_nan());
        assert!(same, "{src} at {point:?}: register reuse changed {a:?} into {b:?}");
        let _ = fast.first_nonfinite(&point);
    }
});
