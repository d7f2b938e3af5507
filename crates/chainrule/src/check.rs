//! Symbolic derivatives against finite differences.
//!
//! Each derivative is compared with a central difference refined by one Richardson step,
//! `(4*D(h/2) - D(h)) / 3` with `D(h) = (f(x+h) - f(x-h)) / 2h`, whose error is O(h^4); the
//! step shrinks until successive estimates agree, so it suits the formula's own scale.

use crate::error::Result;
use crate::eval::{compile, Tape};
use crate::graph::{Graph, NodeId, VarId};

/// One derivative compared: its label (`d/dx`, `d2/dxdy`), both values and the error
/// `|symbolic - numeric| / max(1, |numeric|)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Which derivative.
    pub label: String,
    /// The symbolic derivative's value.
    pub symbolic: f64,
    /// The finite-difference estimate.
    pub numeric: f64,
    /// Relative error.
    pub error: f64,
}

impl Comparison {
    /// True when the error is within `tol` (a NaN error never is).
    pub fn passes(&self, tol: f64) -> bool {
        self.error <= tol
    }
}

/// Compares `gradient[i]` (any nodes, e.g. a symbolic gradient) with finite differences of
/// `value` in `vars[i]`, at `point` (one value per var).
pub fn gradient(
    g: &Graph,
    value: NodeId,
    gradient: &[NodeId],
    vars: &[VarId],
    point: &[f64],
) -> Result<Vec<Comparison>> {
    let f = compile(g, &[value], vars)?;
    let symbolic = compile(g, gradient, vars)?.run(point, &mut Vec::new());
    Ok(vars
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let label = crate::print::derivative_label(&g.variable(v).name, 1);
            compare(label, symbolic[i], difference(&f, point, i, 0))
        })
        .collect())
}

/// Compares `hessian[i][j]` with finite differences of `gradient[i]` in `vars[j]`.
pub fn hessian(
    g: &Graph,
    gradient: &[NodeId],
    hessian: &[Vec<NodeId>],
    vars: &[VarId],
    point: &[f64],
) -> Result<Vec<Comparison>> {
    let df = compile(g, gradient, vars)?;
    let flat: Vec<NodeId> = hessian.concat();
    let symbolic = compile(g, &flat, vars)?.run(point, &mut Vec::new());
    let n = vars.len();
    let mut out = Vec::with_capacity(n * n);
    let name = |v: &VarId| &g.variable(*v).name;
    for (i, a) in vars.iter().map(name).enumerate() {
        for (j, b) in vars.iter().map(name).enumerate() {
            out.push(compare(
                format!("d2/d{a}d{b}"),
                symbolic[i * n + j],
                difference(&df, point, j, i),
            ));
        }
    }
    Ok(out)
}

fn compare(label: String, symbolic: f64, numeric: f64) -> Comparison {
    let error = (symbolic - numeric).abs() / numeric.abs().max(1.0);
    let error = if symbolic == numeric { 0.0 } else { error };
    Comparison { label, symbolic, numeric, error }
}

/// d(output `k` of `tape`)/d(input `i`) at `point`, by Richardson-refined central differences.
/// The step starts at `1e-3 * max(1, |x|)` and shrinks fourfold while successive estimates
/// keep changing: a fixed step is too coarse where the formula varies on a smaller scale
/// than `x` itself (`ln(x)` at x = 0.005). The estimate that changed least is kept.
fn difference(tape: &Tape, point: &[f64], i: usize, k: usize) -> f64 {
    let mut registers = Vec::new();
    let mut at = |delta: f64| {
        let mut p = point.to_vec();
        p[i] += delta;
        tape.run(&p, &mut registers)[k]
    };
    let mut richardson = |h: f64| {
        let coarse = (at(h) - at(-h)) / (2.0 * h);
        let fine = (at(h / 2.0) - at(-h / 2.0)) / h;
        (4.0 * fine - coarse) / 3.0
    };
    let mut h = 1e-3 * point[i].abs().max(1.0);
    let mut previous = richardson(h);
    let (mut best, mut best_change) = (previous, f64::INFINITY);
    for _ in 0..6 {
        h /= 4.0;
        let estimate = richardson(h);
        let change = (estimate - previous).abs();
        if change < best_change {
            (best, best_change) = (estimate, change);
        }
        if change <= 1e-10 * estimate.abs().max(1.0) {
            break;
        }
        previous = estimate;
    }
    best
}

/// The longest printed text [`round_trip`] reads back, in bytes.
pub const MAX_TEXT: u64 = 200_000;

/// The invariants the `pipeline` fuzz target checks, on one formula: its canonical text
/// and the text of its derivative in `x` parse back to the very same graph nodes, and
/// reusing registers changes no bit of the tape's results at two points. `Err` says what
/// broke (a formula that does not parse is an error too); a formula whose graph grows past
/// `node_limit` has nothing more to check, nor has a text longer than [`MAX_TEXT`]. In an
/// array program (SPEC "Arrays") the derivative is in `x[1]` when `x` is a declared vector
/// (`x[1,1]` for a matrix), and the texts, which name elements `x[2]`, are read back after
/// the program's declarations.
pub fn round_trip(src: &str, node_limit: usize) -> std::result::Result<(), String> {
    use crate::error::ErrorKind;
    use crate::eval::{compile_with, CompileOptions};
    use crate::graph::lower::lower;
    let mut f = crate::Formula::parse(src).map_err(|e| format!("{src} does not parse: {e}"))?;
    f.graph_mut().set_node_limit(node_limit);
    // An array program: the derivative in its first element, the printed texts read back
    // after its declarations (where `x[2]` means an element).
    let wrt = match f.array("x") {
        Some(x) => f.graph().variable(x.elements[0]).name.to_string(),
        None => "x".to_string(),
    };
    let declarations: String = f
        .arrays()
        .iter()
        .map(|a| format!("{}: {}; ", a.name, crate::graph::lower::shape_text(&a.shape)))
        .collect();
    let mut simplified =
        || -> Result<(NodeId, NodeId)> { Ok((f.simplified()?, f.derivative(&wrt, 1)?)) };
    let (canonical, derivative) = match simplified() {
        Ok(pair) => pair,
        Err(e) if matches!(e.kind, ErrorKind::TooManyNodes { .. }) => return Ok(()),
        Err(e) => return Err(format!("{src}: {e}")),
    };
    for (what, node) in [("the formula", canonical), ("its derivative in x", derivative)] {
        if crate::print::text_size(f.graph(), node) > MAX_TEXT {
            // printed whole, a shared DAG can be exponentially long (nested softmax): the
            // command line refuses such a text, so there is nothing to read back
            continue;
        }
        let text = format!("{declarations}{}", f.text(node));
        let program = crate::syntax::parse(&text)
            .map_err(|e| format!("{src}: {what} printed as {text} does not parse: {e}"))?;
        let again = lower(f.graph_mut(), &program).map_err(|e| format!("{src}: {text}: {e}"))?.root;
        if again != node {
            return Err(format!("{src}: {what} printed as {text} parses to another node"));
        }
    }
    let roots = [f.root(), canonical, derivative];
    let options = |reuse_registers| CompileOptions { fuse: true, reuse_registers };
    let compile = |o| compile_with(f.graph(), &roots, f.var_ids(), o).map_err(|e| e.to_string());
    let (reused, fresh) = (compile(options(true))?, compile(options(false))?);
    for pattern in [[0.3, -0.7, 1.1], [1.9, 0.25, -2.5]] {
        let point: Vec<f64> = (0..f.var_ids().len()).map(|i| pattern[i % 3]).collect();
        let a = reused.run(&point, &mut Vec::new());
        let b = fresh.run(&point, &mut Vec::new());
        let same =
            a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits() || x.is_nan() && y.is_nan());
        if !same {
            return Err(format!("{src} at {point:?}: register reuse changed {b:?} into {a:?}"));
        }
        let _ = reused.first_nonfinite(&point);
    }
    Ok(())
}
