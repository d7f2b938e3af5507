//! Is a hand-derived derivative right? A claim is compared with the derivative chainrule
//! derives, first symbolically, then at random points.
//!
//! - **Symbolic**: the claim holds when its canonical form is the derivative's node (the
//!   graph is hash-consed, so equal canonical forms are one node), or when the canonical
//!   form of their difference is 0.
//! - **Numeric**: otherwise both are evaluated at random points of the formula's domain
//!   (points where the formula and its derivative are finite) in double-double arithmetic
//!   with a bound on each value's error (module `approx`). They differ at a point when their
//!   difference exceeds the sum of the bounds, a difference that rounding cannot explain;
//!   they agree at a point when it does not and the bounds are small against the values.
//!   The claim holds when they agree at every point and decisively at one at least.
//!
//! A claim that fails comes with the point (rounded to few digits where it still fails),
//! the two values, and the smallest part of the claim that differs from the derivative's
//! corresponding part, where the two can be matched (module `locate`).

mod approx;
mod claims;
mod locate;

pub use claims::{Claim, Claims};

use crate::error::{Result, Span};
use crate::graph::{NodeId, Op};
use crate::{print, simplify, Formula, Request, Simplify};
use approx::{Approx, Values};
use rand::{Rng, SeedableRng};
use rustc_hash::FxHashMap as HashMap;

/// How many points, and which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// How many points of the domain to compare at.
    pub points: usize,
    /// The seed of the random points.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { points: 100, seed: 0 }
    }
}

/// How a verdict was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Canonical forms agree.
    Symbolic,
    /// Values at points.
    Numeric,
}

impl Method {
    /// `symbolic` or `numeric`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Symbolic => "symbolic",
            Method::Numeric => "numeric",
        }
    }
}

/// The verdict on one claim.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The variable.
    pub wrt: String,
    /// The claim as written.
    pub claim: String,
    /// True when the claim is the derivative.
    pub holds: bool,
    /// How that was decided.
    pub method: Method,
    /// Numeric: the points where claim and derivative agree within their bounds.
    pub points: usize,
    /// Numeric: the largest bound of those points, relative to the values (the tolerance
    /// the agreement was checked to).
    pub tolerance: f64,
    /// Where a failing claim fails (none when no point could decide).
    pub counterexample: Option<Counterexample>,
}

/// A point where the claim and the derivative differ.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterexample {
    /// Every free variable of the formula with its value, in order of first appearance.
    pub at: Vec<(String, f64)>,
    /// The claim's value there.
    pub claimed: f64,
    /// The derivative's value there.
    pub actual: f64,
    /// The smallest differing part, where one was found below the whole claim.
    pub part: Option<Part>,
}

/// The smallest part of a claim found to differ from the derivative's corresponding part.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// Whether the parts are terms of a sum, factors of a product, or one subexpression.
    pub kind: PartKind,
    /// The claim's part (empty: the claim has nothing there).
    pub claimed: String,
    /// The derivative's part, in the formula's names (empty: the derivative has nothing).
    pub actual: String,
    /// The claim's part's value at the point.
    pub claimed_value: f64,
    /// The derivative's part's value at the point.
    pub actual_value: f64,
    /// Where the claim's part is written in the claim text, if it is one piece of it.
    pub span: Option<Span>,
    /// How many terms or factors each side's part has (the claim's, the derivative's).
    pub counts: (usize, usize),
}

/// What kind of part a [`Part`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartKind {
    /// Terms of a sum (missing or extra terms are a sum of nothing, 0).
    Terms,
    /// Factors of a product (missing or extra factors are a product of nothing, 1).
    Factors,
    /// One subexpression.
    Subexpression,
}

/// Verifies `claim` (one of `claims`) against the derivative of `formula`.
pub fn verify(
    formula: &mut Formula,
    claims: &Claims,
    claim: &Claim,
    options: &Options,
) -> Result<Verdict> {
    let wrt = formula.ids(&[claim.wrt.as_str()]);
    let truth = formula.derive(&Request::new(wrt))?.derivatives[0];
    let text = claim.text.clone();
    let mut verdict = Verdict {
        wrt: claim.wrt.clone(),
        claim: text,
        holds: true,
        method: Method::Symbolic,
        points: 0,
        tolerance: 0.0,
        counterexample: None,
    };
    if symbolic(formula, claim.node, truth) {
        return Ok(verdict);
    }
    verdict.method = Method::Numeric;
    let sampled = sample(formula, claim.node, truth, options);
    verdict.points = sampled.agree;
    verdict.tolerance = sampled.tolerance;
    verdict.holds = sampled.differs.is_none() && sampled.agree > 0;
    if let Some(point) = sampled.differs {
        let point = nicer(formula, claim.node, truth, point);
        let forms = forms(formula, &claim.wrt, truth)?;
        verdict.counterexample = Some(counterexample(formula, claims, claim, &forms, &point));
    }
    Ok(verdict)
}

/// The derivative in the forms a claim may resemble: as printed, in canonical form, and
/// as reverse mode builds it (the chain rule's own sum of products).
fn forms(formula: &mut Formula, wrt: &str, printed: NodeId) -> Result<Vec<NodeId>> {
    let wrt = formula.ids(&[wrt]);
    let mut forms = vec![printed];
    for how in [Simplify::Together, Simplify::Raw] {
        let request = Request::new(wrt.clone()).order(1).simplify(how);
        let d = formula.derive(&request)?.derivatives[0];
        if !forms.contains(&d) {
            forms.push(d);
        }
    }
    Ok(forms)
}

/// Canonical forms agree: the same node, or a difference that simplifies to 0. A claim
/// too large to simplify is left to the numeric test.
fn symbolic(formula: &mut Formula, claim: NodeId, truth: NodeId) -> bool {
    if claim == truth {
        return true;
    }
    let g = formula.graph_mut();
    if simplify::simplify_for_print(g, &[claim]).is_ok_and(|c| c[0] == truth) {
        return true;
    }
    let difference = g.sub(claim, truth);
    simplify::simplify(g, &[difference]).is_ok_and(|d| g.value(d[0]) == Some(0.0))
}

/// What the random points found.
struct Sampled {
    /// Points where claim and derivative agree decisively.
    agree: usize,
    /// The largest relative bound among them.
    tolerance: f64,
    /// The first point where they differ.
    differs: Option<Vec<f64>>,
}

/// How a claim and the derivative compare at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Relation {
    /// They differ by more than rounding can explain (by this much, relative to the
    /// larger value).
    Differ(f64),
    /// They agree within a bound this small relative to the values.
    Agree(f64),
    /// They agree, but only within a bound too large to count.
    Unclear,
}

/// Compares at up to `options.points` random points of the domain. Where the claim
/// differs, the point kept is the clearest: a large relative difference at coordinates of
/// moderate size.
fn sample(formula: &Formula, claim: NodeId, truth: NodeId, options: &Options) -> Sampled {
    let mut rng = rand::rngs::StdRng::seed_from_u64(options.seed);
    let mut out = Sampled { agree: 0, tolerance: 0.0, differs: None };
    let mut best = f64::INFINITY;
    let mut valid = 0;
    for _ in 0..options.points.saturating_mul(50) {
        if valid == options.points {
            break;
        }
        let moderate = rng.random_bool(0.5);
        let point: Vec<f64> =
            formula.var_ids().iter().map(|_| coordinate(&mut rng, moderate)).collect();
        let Some(relation) = compare_at(formula, claim, truth, &point) else { continue };
        valid += 1;
        match relation {
            Relation::Differ(relative) => {
                let size =
                    point.iter().map(|x| x.abs().max(1.0 / x.abs()).log10()).fold(0.0, f64::max);
                let score = size - 4.0 * relative.min(0.5);
                if score < best {
                    (best, out.differs) = (score, Some(point));
                }
            }
            Relation::Agree(bound) => {
                out.agree += 1;
                out.tolerance = out.tolerance.max(bound);
            }
            Relation::Unclear => {}
        }
    }
    out
}

/// One coordinate: uniform in [-2, 2] for a `moderate` point; otherwise that half the
/// time, else a random sign times a magnitude spread evenly over the decades from 0.001 to
/// 100, where near misses that only matter for small or large values show.
fn coordinate(rng: &mut impl Rng, moderate: bool) -> f64 {
    if moderate || rng.random_bool(0.5) {
        return rng.random_range(-2.0..2.0);
    }
    let magnitude = 10f64.powf(rng.random_range(-3.0..2.0));
    if rng.random_bool(0.5) {
        magnitude
    } else {
        -magnitude
    }
}

/// The values at `point`, by variable number.
fn bindings(formula: &Formula, point: &[f64]) -> HashMap<u32, f64> {
    formula.var_ids().iter().zip(point).map(|(v, &x)| (v.index() as u32, x)).collect()
}

/// How claim and derivative compare at `point`; `None` outside the domain (the formula or
/// its derivative not finite there).
fn compare_at(formula: &Formula, claim: NodeId, truth: NodeId, point: &[f64]) -> Option<Relation> {
    let g = formula.graph();
    let bound = bindings(formula, point);
    let mut values = Values::new(&bound);
    let d = values.of(g, truth);
    if !values.of(g, formula.root()).hi.is_finite() || !d.hi.is_finite() {
        return None;
    }
    Some(relation(values.of(g, claim), d))
}

/// A claim that is not finite where the derivative is, or values past the range where the
/// bounds hold (near underflow or overflow), decide nothing: a right claim written as
/// `exp(u)/(exp(u) + 1)` overflows where `sigmoid(u)` does not.
fn relation(c: Approx, d: Approx) -> Relation {
    if !c.is_known() || !d.is_known() {
        return Relation::Unclear;
    }
    let size = c.value().abs().max(d.value().abs());
    if size > 1e250 || (size < 1e-250 && size != 0.0) {
        return Relation::Unclear;
    }
    let difference = c.sub(d).value().abs();
    let bound = 4.0 * (c.err + d.err);
    let larger = c.value().abs().max(d.value().abs());
    if difference > bound {
        return Relation::Differ(difference / larger);
    }
    let scale = larger.max(1.0);
    if bound <= 1e-9 * scale {
        Relation::Agree(bound / scale)
    } else {
        Relation::Unclear
    }
}

/// `point` rounded to 1, 2 or 3 significant digits where the claim still fails there.
fn nicer(formula: &Formula, claim: NodeId, truth: NodeId, point: Vec<f64>) -> Vec<f64> {
    for digits in 1..=3 {
        let rounded: Vec<f64> = point.iter().map(|&x| round_to(x, digits)).collect();
        if matches!(compare_at(formula, claim, truth, &rounded), Some(Relation::Differ(_))) {
            return rounded;
        }
    }
    point
}

fn round_to(x: f64, digits: usize) -> f64 {
    format!("{:.*e}", digits - 1, x).parse().unwrap_or(x)
}

/// The counterexample at `point`, with the smallest differing part of the claim.
fn counterexample(
    formula: &mut Formula,
    claims: &Claims,
    claim: &Claim,
    forms: &[NodeId],
    point: &[f64],
) -> Counterexample {
    let bound = bindings(formula, point);
    let mut values = Values::new(&bound);
    let g = formula.graph();
    let (claimed, actual) = (values.of(g, claim.node).value(), values.of(g, forms[0]).value());
    let parts = forms.iter().filter_map(|&truth| {
        let found = locate::locate(g, &mut values, claim.node, truth);
        let whole = found.claim == [claim.node] && found.truth == [truth];
        (!whole).then(|| describe(formula, claims, claim, &found, &mut values))
    });
    let part = parts.min_by_key(|p| p.claimed.len() + p.actual.len());
    let at = formula.var_names().into_iter().map(str::to_string).zip(point.to_vec()).collect();
    Counterexample { at, claimed, actual, part }
}

/// The texts, values and place of what [`locate::locate`] found.
fn describe(
    formula: &Formula,
    claims: &Claims,
    claim: &Claim,
    found: &locate::Found,
    values: &mut Values,
) -> Part {
    let g = formula.graph();
    let names: HashMap<NodeId, String> =
        formula.definitions().iter().rev().map(|(n, id)| (*id, n.clone())).collect();
    let kind = match (found.op, found.claim.len().max(found.truth.len())) {
        (_, 1) if found.claim.len() == 1 && found.truth.len() == 1 => PartKind::Subexpression,
        (Op::Add, _) => PartKind::Terms,
        _ => PartKind::Factors,
    };
    let claim_text = |n: NodeId| match claims.origins.get(n) {
        Some(s) => claims.source[s.start..s.end].to_string(),
        None => print::text_named(g, n, &names),
    };
    let truth_text = |n: NodeId| print::text_named(g, n, &names);
    let mut combine = |parts: &[NodeId], text: &dyn Fn(NodeId) -> String| {
        let texts: Vec<String> = parts
            .iter()
            .map(|&n| {
                let t = text(n);
                let wrap = kind == PartKind::Factors && g.op(n) == Op::Add && parts.len() > 1;
                if wrap {
                    format!("({t})")
                } else {
                    t
                }
            })
            .collect();
        let vals = parts.iter().map(|&n| values.of(g, n));
        let (joined, value) = if kind == PartKind::Terms {
            (join_terms(&texts), vals.fold(Approx::exact(0.0), Approx::add))
        } else {
            (texts.join("*"), vals.fold(Approx::exact(1.0), Approx::mul))
        };
        (joined, value.value())
    };
    let (mut claimed, claimed_value) = combine(&found.claim, &claim_text);
    let mut counts = (found.claim.len(), found.truth.len());
    let mut span = match found.claim[..] {
        [n] => claims.place(claim, &found.path, n),
        _ => None,
    };
    if let Some(name) = claims.name_of(g, &found.claim, found.op) {
        span = claims.place_name(claim, &name);
        (claimed, counts.0) = (name, 1);
    }
    let (actual, actual_value) = combine(&found.truth, &truth_text);
    Part { kind, claimed, actual, claimed_value, actual_value, span, counts }
}

/// Terms joined by ` + `, a term that starts with a minus by ` - `.
fn join_terms(texts: &[String]) -> String {
    let mut out = String::new();
    for (i, t) in texts.iter().enumerate() {
        match (i, t.strip_prefix('-')) {
            (0, _) => out.push_str(t),
            (_, Some(rest)) => {
                out.push_str(" - ");
                out.push_str(rest);
            }
            _ => {
                out.push_str(" + ");
                out.push_str(t);
            }
        }
    }
    out
}
