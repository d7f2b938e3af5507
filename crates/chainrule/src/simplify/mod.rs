//! The simplifier: rebuilds the part of the graph reachable from some roots bottom-up into
//! canonical form, on top of what the constructors already do.
//!
//! - Sums are flattened into terms `coefficient * term`; like terms combine, constants fold,
//!   and the terms are rebuilt as a left-to-right chain in canonical order: a positive
//!   constant first, then positive terms, then negative ones (`1 + x - 2*y`).
//! - Products are flattened into `base ^ exponent` factors; like factors combine
//!   (`x*x*y/x` is `x*y`), and the product is rebuilt as `c * f1 * f2 ... / (d1 * d2 ...)`.
//! - A sum or product nested in another of its kind is flattened into it only when it has
//!   no other user. A shared one stays one node, so that simplifying never undoes the
//!   sharing that keeps gradients small (the suffix products of a long product's gradient,
//!   the adjoints of a network).
//!
//! One pass usually reaches the fixed point; the driver repeats until the roots stop changing.

mod tidy;

pub use tidy::simplify_for_print;

use crate::error::{Error, ErrorKind, Result};
use crate::graph::{walk, Graph, NodeId, Number, Op, SUM_RUN};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::hash_map::Entry;

/// The canonical forms of `roots`, in the same graph.
pub fn simplify(g: &mut Graph, roots: &[NodeId]) -> Result<Vec<NodeId>> {
    let mut current = roots.to_vec();
    for _ in 0..4 {
        let reach = Reach::new(g, &current);
        let next = simplify_once(g, &current, &reach, Pass::Full)?;
        if next == current {
            break;
        }
        current = next;
    }
    Ok(current)
}

/// The form of `roots` that evaluation runs (tapes, native code, generated code, training):
/// one quick pass of the canonical rebuild (`Pass::Quick`; a second pass rarely finds
/// more), kept only when it has no more nodes than it was given, so that simplifying never
/// swells a gradient; and long sums added pairwise (blocks of [`SUM_RUN`]), so that
/// adding many terms (a node's adjoint contributions, an indexed sum) loses about
/// `SUM_RUN + log2(n)` roundings, not `n`.
pub fn for_evaluation(g: &mut Graph, roots: &[NodeId]) -> Result<Vec<NodeId>> {
    let reach = Reach::new(g, roots);
    let rebuilt = simplify_once(g, roots, &reach, Pass::Quick)?;
    if rebuilt == roots {
        // Already canonical: no node to count.
        return Ok(rebuilt);
    }
    // The pass sums long sums pairwise as it rebuilds them; what it gave up on needs it.
    match walk::count_reachable(g, &rebuilt, reach.order.len()).is_some() {
        true => Ok(rebuilt),
        false => Ok(balance_reached(g, roots, &reach)),
    }
}

/// The nodes reachable from some roots, with what every pass over them needs to know.
struct Reach {
    /// The nodes, operands before users.
    order: Vec<NodeId>,
    /// Their users among them (and the roots), by node index.
    uses: Vec<u32>,
    /// [`absorbed_nodes`], by node index.
    absorbed: Vec<bool>,
}

impl Reach {
    fn new(g: &Graph, roots: &[NodeId]) -> Reach {
        let order = walk::reachable(g, roots);
        let uses = walk::use_counts(g, &order, roots);
        let absorbed = absorbed_nodes(g, &order, &uses);
        Reach { order, uses, absorbed }
    }
}

/// `roots` with every long sum (additions whose inner nodes have no other user) rebuilt
/// with its terms in the same order added pairwise ([`Graph::sum`]): about as many
/// additions, and rounding errors that grow with the depth instead of the number of terms.
pub fn balance_sums(g: &mut Graph, roots: &[NodeId]) -> Vec<NodeId> {
    let reach = Reach::new(g, roots);
    balance_reached(g, roots, &reach)
}

/// [`balance_sums`] over `reach`, the nodes reachable from `roots`.
fn balance_reached(g: &mut Graph, roots: &[NodeId], reach: &Reach) -> Vec<NodeId> {
    let Reach { order, absorbed, .. } = reach;
    let mut new: Vec<NodeId> = (0..g.len()).map(NodeId::from_index).collect();
    for &n in order {
        let terms = (g.op(n) == Op::Add && !absorbed[n.index()])
            .then(|| absorbed_terms(g, n, absorbed, usize::MAX))
            .flatten()
            .filter(|terms| terms.len() > SUM_RUN);
        let renamed =
            |ids: &[NodeId]| -> Vec<NodeId> { ids.iter().map(|a| new[a.index()]).collect() };
        let rebuilt = match terms {
            Some(terms) if terms.iter().all(|&t| new[t.index()] == t) && g.is_sum(n, &terms) => n,
            Some(terms) => g.sum(&renamed(&terms)),
            None if g.args(n).iter().all(|&a| new[a.index()] == a) => n,
            None => {
                let args = renamed(g.args(n));
                rebuild(g, n, &args)
            }
        };
        new[n.index()] = rebuilt;
    }
    roots.iter().map(|r| new[r.index()]).collect()
}

/// The terms of the sum `n` through its absorbed inner sums, left to right; `None` when
/// there are more than `limit`.
fn absorbed_terms(g: &Graph, n: NodeId, absorbed: &[bool], limit: usize) -> Option<Vec<NodeId>> {
    let mut out = Vec::new();
    let mut stack: Vec<NodeId> = g.args(n).iter().rev().copied().collect();
    while let Some(a) = stack.pop() {
        match g.op(a) == Op::Add && absorbed[a.index()] {
            true => stack.extend(g.args(a).iter().rev()),
            false if out.len() == limit => return None,
            false => out.push(a),
        }
    }
    Some(out)
}

/// `n`'s operation over `args`, through the constructors.
pub(super) fn rebuild(g: &mut Graph, n: NodeId, args: &[NodeId]) -> NodeId {
    match g.op(n) {
        Op::Const(_) | Op::Named(_) | Op::Var(_) => n,
        Op::Add => g.add(args[0], args[1]),
        Op::Mul => g.mul(args[0], args[1]),
        Op::Pow => g.pow(args[0], args[1]),
        Op::Func(f) => g.func(f, args),
        Op::LogSumExp => g.logsumexp(args),
    }
}

/// The canonical form of one root.
pub fn simplify_one(g: &mut Graph, root: NodeId) -> Result<NodeId> {
    Ok(simplify(g, &[root])?[0])
}

/// How much of the graph one pass rebuilds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Every sum and product.
    Full,
    /// Only sums and products with a rebuilt operand or one that opens into them: a binary
    /// node over opaque operands is as canonical as its constructor made it (like terms
    /// and powers combined, operands ordered), up to the rare rewrite across two nodes.
    Quick,
}

/// Whether [`Pass::Quick`] can keep the sum `n` as it is: at most [`SUM_RUN`] terms
/// through its unshared inner sums, all kept, none a number or a bare sum (which would fold
/// or open into it), no two alike (`x` and `2*x`). Its shape stays too (a chain, or pairs).
fn plain_sum(g: &Graph, n: NodeId, absorbed: &[bool], new: &[NodeId]) -> bool {
    let Some(terms) = absorbed_terms(g, n, absorbed, SUM_RUN) else {
        return false;
    };
    let mut keys = Vec::with_capacity(terms.len());
    for a in terms {
        let (c, term) = g.split_shallow(a);
        let whole_coefficient = c.to_f64() == g.coefficient(a);
        // A bare sum would open into this one; a scaled one stays (`2*(x - y)`).
        let opens = g.op(term) == Op::Add && c.is_one();
        if new[a.index()] != a || g.value(a).is_some() || opens || !whole_coefficient {
            return false;
        }
        keys.push(term);
    }
    keys.sort_unstable();
    keys.windows(2).all(|w| w[0] != w[1])
}

/// Whether `pass` can keep `n` as it is: its operands were kept, and none of them opens
/// into it (an unshared or small sum in a sum, product in a product).
fn kept_as_built(g: &Graph, n: NodeId, new: &[NodeId], uses: &[u32], pass: Pass) -> bool {
    let op = g.op(n);
    let opaque = |a: NodeId| g.op(a) != op || uses[a.index()] > 1;
    // A number times a sum spreads over it (`-(a - b)` is `b - a`).
    let spreads = op == Op::Mul
        && g.args(n).iter().any(|&a| g.op(a) == Op::Add)
        && g.args(n).iter().any(|&a| g.value(a).is_some());
    pass == Pass::Quick
        && matches!(op, Op::Add | Op::Mul)
        && !spreads
        && g.args(n).iter().all(|&a| new[a.index()] == a && opaque(a))
}

/// One pass over `reach`, the nodes reachable from `roots`.
fn simplify_once(
    g: &mut Graph,
    roots: &[NodeId],
    reach: &Reach,
    pass: Pass,
) -> Result<Vec<NodeId>> {
    let Reach { order, uses, absorbed } = reach;
    // The rebuilt form of each node in `order`, by index (every node in `order` was there
    // before the pass, so the table need not grow).
    let mut new: Vec<NodeId> = vec![NodeId::from_index(u32::MAX as usize); g.len()];
    let mut shared: HashSet<NodeId> = HashSet::default();
    for &n in order {
        if absorbed[n.index()] {
            continue;
        }
        let rebuilt = match g.op(n) {
            _ if kept_as_built(g, n, &new, uses, pass) => n,
            Op::Add if pass == Pass::Quick && plain_sum(g, n, absorbed, &new) => n,
            Op::Const(_) | Op::Named(_) | Op::Var(_) => n,
            Op::Add => {
                let leaves = leaves(g, n, Op::Add, absorbed, &new);
                match pass {
                    Pass::Full => rebuild_sum(g, &leaves, &shared),
                    Pass::Quick => sum_of_terms(g, &leaves, &shared, Pass::Quick, Some(n)),
                }
            }
            Op::Mul => {
                let leaves = leaves(g, n, Op::Mul, absorbed, &new);
                product_of_factors(g, &leaves, &shared, pass)
            }
            Op::Pow => {
                let (a, b) = (new[g.args(n)[0].index()], new[g.args(n)[1].index()]);
                // `Graph::pow` over the same operands gives `n` again; only a product's
                // power opens here.
                if [a, b] == g.args(n)[..] && g.op(a) != Op::Mul {
                    n
                } else {
                    power(g, a, b, &shared)
                }
            }
            // Every call node comes from `Graph::func`, so over the same operands it would
            // give `n` again.
            Op::Func(_) if g.args(n).iter().all(|&a| new[a.index()] == a) => n,
            Op::Func(f) => {
                let args: Vec<NodeId> = g.args(n).iter().map(|a| new[a.index()]).collect();
                g.func(f, &args)
            }
            Op::LogSumExp => {
                let args: Vec<NodeId> = g.args(n).iter().map(|a| new[a.index()]).collect();
                g.logsumexp(&args)
            }
        };
        new[n.index()] = rebuilt;
        if uses[n.index()] > 1 {
            shared.insert(rebuilt);
        }
        if g.len() > g.node_limit() {
            return Err(Error::new(ErrorKind::TooManyNodes { limit: g.node_limit() }));
        }
    }
    Ok(roots.iter().map(|r| new[r.index()]).collect())
}

/// A sum inside a sum (a product inside a product) with no other user: its parent
/// flattens it, so it needs no canonical form of its own.
fn absorbed_nodes(g: &Graph, order: &[NodeId], uses: &[u32]) -> Vec<bool> {
    let mut absorbed = vec![false; g.len()];
    for &n in order {
        let op = g.op(n);
        if !matches!(op, Op::Add | Op::Mul) {
            continue;
        }
        for &a in g.args(n) {
            if g.op(a) == op && uses[a.index()] == 1 {
                absorbed[a.index()] = true;
            }
        }
    }
    absorbed
}

/// A shared sum (product) of two plain operands is small enough to copy into the sums
/// (products) that use it, so that `(1 - s) - s` still becomes `1 - 2*s`.
fn is_small(g: &Graph, n: NodeId) -> bool {
    let op = g.op(n);
    g.args(n).iter().all(|&a| g.op(a) != op)
}

/// The operands of the `op`-tree rooted at `n`, through absorbed and small nodes, rebuilt.
fn leaves(g: &Graph, n: NodeId, op: Op, absorbed: &[bool], new: &[NodeId]) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut stack: Vec<NodeId> = g.args(n).iter().rev().copied().collect();
    while let Some(a) = stack.pop() {
        if g.op(a) == op && (absorbed[a.index()] || is_small(g, a)) {
            stack.extend(g.args(a).iter().rev());
        } else {
            out.push(new[a.index()]);
        }
    }
    out
}

/// Adds `value` to the entry for `key`, keeping first-seen order; the entry's position.
fn accumulate_coefficient(
    list: &mut Vec<(NodeId, Number)>,
    index: &mut HashMap<NodeId, usize>,
    key: NodeId,
    value: Number,
) -> usize {
    match index.entry(key) {
        Entry::Occupied(i) => {
            list[*i.get()].1 = list[*i.get()].1 + value;
            *i.get()
        }
        Entry::Vacant(slot) => {
            slot.insert(list.len());
            list.push((key, value));
            list.len() - 1
        }
    }
}

/// Sums with at most this many terms are copied where they are used with a whole
/// coefficient (`-(x + y)` is `-x - y`), and products with at most this many factors are raised
/// factor by factor (`(2*x)^3` is `8*x^3`).
const SMALL: usize = 8;

/// The operands of `n` flattened through every nested node of `op`, if there are at most
/// `limit` of them.
pub(super) fn small_flat(g: &Graph, n: NodeId, op: Op, limit: usize) -> Option<Vec<NodeId>> {
    let mut out = Vec::new();
    let mut stack = vec![n];
    while let Some(a) = stack.pop() {
        if g.op(a) == op {
            stack.extend(g.args(a).iter().rev());
        } else {
            out.push(a);
        }
        if out.len() + stack.len() > limit {
            return None;
        }
    }
    Some(out)
}

/// A sum of `leaves`; `shared` holds rebuilt nodes with several users, over which a
/// coefficient is not distributed (that would compute the sum twice).
pub(super) fn rebuild_sum(g: &mut Graph, leaves: &[NodeId], shared: &HashSet<NodeId>) -> NodeId {
    sum_of_terms(g, leaves, shared, Pass::Full, None)
}

/// [`rebuild_sum`] for `pass`: [`Pass::Full`] adds the terms one after another in canonical
/// order; [`Pass::Quick`] keeps their order and adds them pairwise ([`Graph::sum`]), which
/// may give `was`, the sum being rebuilt, again ([`Graph::is_sum`] tells it without adding).
fn sum_of_terms(
    g: &mut Graph,
    leaves: &[NodeId],
    shared: &HashSet<NodeId>,
    pass: Pass,
    was: Option<NodeId>,
) -> NodeId {
    // A long sum in the quick pass adds no nodes for its repeated terms (see below) and
    // spreads no coefficient other than one over an inner sum.
    let lean = pass == Pass::Quick && leaves.len() > SUM_RUN;
    // For each term: `Some(k)` while it has come k <= 2 times, each with coefficient one.
    let mut bare_pair: Vec<Option<u8>> = Vec::new();
    // In a long sum, the term of each leaf in turn, so that a pair kept apart stays where
    // its two halves were (and an unchanged sum is recognised as `was`).
    let mut occurrences: Vec<usize> = Vec::new();
    let mut constant = Number::int(0);
    let mut terms: Vec<(NodeId, Number)> = Vec::with_capacity(leaves.len());
    let mut index = HashMap::with_capacity_and_hasher(leaves.len(), Default::default());
    let one = Number::int(1);
    let mut stack: Vec<(Number, NodeId)> = leaves.iter().rev().map(|&l| (one, l)).collect();
    while let Some((scale, leaf)) = stack.pop() {
        if let Some(v) = g.number_of(leaf) {
            constant = constant + (scale * v);
            continue;
        }
        let (c, t) = g.split_coefficient(leaf);
        let sc = scale * c;
        let spread =
            g.op(t) == Op::Add && (sc.is_one() || !lean && sc.is_integer() && !shared.contains(&t));
        match spread.then(|| small_flat(g, t, Op::Add, SMALL)).flatten() {
            Some(inner) => stack.extend(inner.into_iter().rev().map(|i| (sc, i))),
            None => {
                let i = accumulate_coefficient(&mut terms, &mut index, t, sc);
                bare_pair.resize(terms.len(), Some(0));
                bare_pair[i] = bare_pair[i].filter(|&k| sc.is_one() && k < 2).map(|k| k + 1);
                if lean {
                    occurrences.push(i);
                }
            }
        }
    }
    let mut scaled: Vec<NodeId> = Vec::with_capacity(terms.len());
    if lean {
        // `t + t` stays as it is in a long sum: `2*t` takes a product and maybe a constant
        // to save one addition, and so could swell the graph. Other terms go where they
        // first came.
        let mut placed = vec![false; terms.len()];
        for i in occurrences {
            let (t, c) = terms[i];
            match (bare_pair[i] == Some(2), std::mem::replace(&mut placed[i], true)) {
                (true, _) => scaled.push(t),
                (false, false) if !c.is_zero() => scaled.push(g.scale(c, t)),
                _ => {}
            }
        }
    } else {
        for (t, c) in terms.into_iter().filter(|(_, c)| !c.is_zero()) {
            scaled.push(g.scale(c, t));
        }
    }
    if pass == Pass::Full {
        scaled.sort_by(|&a, &b| g.sum_cmp(a, b));
    }
    let all_negative = scaled.iter().all(|&t| g.coefficient(t) < 0.0);
    let constant_first = constant.to_f64() > 0.0 && all_negative;
    // A positive constant leads where every term is negative (`1 - x`).
    let lead = constant_first.then(|| g.number(constant));
    let terms: Vec<NodeId> = lead.into_iter().chain(scaled).collect();
    let mut acc = (!terms.is_empty()).then(|| match pass {
        Pass::Full => terms[1..].iter().fold(terms[0], |acc, &t| g.add(acc, t)),
        Pass::Quick => was.filter(|&n| g.is_sum(n, &terms)).unwrap_or_else(|| g.sum(&terms)),
    });
    if !constant.is_zero() && !constant_first {
        let c = g.number(constant);
        acc = Some(match acc {
            Some(a) => g.add(a, c),
            None => c,
        });
    }
    acc.unwrap_or_else(|| g.constant(0.0))
}

/// `sin(u)^e * cos(u)^-e` is `tan(u)^e`, and `sinh(u)^e * cosh(u)^-e` is `tanh(u)^e`
/// (also where `cosh` overflows and the quotient would be NaN).
fn tangents(g: &mut Graph, factors: Vec<(NodeId, NodeId)>) -> Vec<(NodeId, NodeId)> {
    use crate::graph::Func;
    let pairs = [(Func::Sin, Func::Cos, Func::Tan), (Func::Sinh, Func::Cosh, Func::Tanh)];
    let exponent = |g: &Graph, e: NodeId| g.number_of(e).map(|n| n.to_f64().to_bits());
    // The cosines by function, argument and exponent: each sine finds its partner at once.
    let mut cosines: HashMap<(Func, NodeId, u64), usize> = HashMap::default();
    for (j, &(b, e)) in factors.iter().enumerate() {
        if let (Op::Func(f @ (Func::Cos | Func::Cosh)), Some(e)) = (g.op(b), exponent(g, e)) {
            cosines.entry((f, g.args(b)[0], e)).or_insert(j);
        }
    }
    if cosines.is_empty() {
        return factors;
    }
    let mut tangent_of = vec![None; factors.len()];
    let mut taken = vec![false; factors.len()];
    for (i, &(base, e)) in factors.iter().enumerate() {
        let Some(&(_, bottom, tangent)) = pairs.iter().find(|p| g.op(base) == Op::Func(p.0)) else {
            continue;
        };
        let Some(minus_e) = g.number_of(e).map(|n| (-n).to_f64().to_bits()) else {
            continue;
        };
        if let Some(&j) = cosines.get(&(bottom, g.args(base)[0], minus_e)) {
            if !taken[j] {
                taken[j] = true;
                tangent_of[i] = Some(tangent);
            }
        }
    }
    let mut out = Vec::with_capacity(factors.len());
    for (i, (base, e)) in factors.into_iter().enumerate() {
        match tangent_of[i] {
            Some(tangent) => {
                let u = g.args(base)[0];
                out.push((g.func(tangent, &[u]), e));
            }
            None if !taken[i] => out.push((base, e)),
            None => {}
        }
    }
    out
}

/// A named constant's whole power cancels into a power of opposite sign of that constant
/// times a number: `sqrt(2*pi)/pi` is `2/sqrt(2*pi)` (`pi^-1 = (2*pi)^-1 * 2`), so that it
/// combines with the `1/sqrt(2*pi)` of a Gaussian's other terms.
fn constant_powers(
    g: &mut Graph,
    mut factors: Vec<(NodeId, NodeId)>,
    coefficient: &mut Number,
) -> Vec<(NodeId, NodeId)> {
    let mut i = 0;
    while i < factors.len() {
        let (base, e) = factors[i];
        let scaled = (g.op(base) == Op::Mul).then(|| (g.args(base)[0], g.args(base)[1]));
        let partner = scaled.and_then(|(c, k)| {
            let c = g.number_of(c).filter(|c| c.is_exact())?;
            if !matches!(g.op(k), Op::Named(_)) {
                return None;
            }
            let a = g.number_of(e)?;
            let j = factors.iter().position(|&(b, f)| {
                b == k && g.number_of(f).is_some_and(|f| f.exact().is_some_and(|r| r.is_integer()))
            })?;
            let b = g.number_of(factors[j].1)?;
            // Only powers of opposite signs, which cancel: `pi*sqrt(2*pi)` stays.
            (a.is_negative() != b.is_negative()).then_some(())?;
            Some((j, a + b, c.pow(-b)?))
        });
        if let Some((j, total, scale)) = partner.filter(|p| p.2.is_exact()) {
            factors[i].1 = g.number(total);
            *coefficient = *coefficient * scale;
            factors.remove(j);
            if j < i {
                i -= 1;
            }
            continue;
        }
        i += 1;
    }
    factors
}

/// `a ^ b`, raising a small product factor by factor for a whole `b`.
fn power(g: &mut Graph, a: NodeId, b: NodeId, shared: &HashSet<NodeId>) -> NodeId {
    let whole = g.value(b).is_some_and(|e| e != 0.0 && e.fract() == 0.0);
    if whole && g.op(a) == Op::Mul {
        if let Some(factors) = small_flat(g, a, Op::Mul, SMALL) {
            let raised: Vec<NodeId> = factors.into_iter().map(|f| g.pow(f, b)).collect();
            return rebuild_product(g, &raised, shared);
        }
    }
    g.pow(a, b)
}

/// The leaves with each unshared whole power of a small product opened into its factors
/// (`(2*pi*s)^-2` is `(2*pi)^-2 * s^-2` there), so that they combine with the others.
fn open_powers_of_products(
    g: &mut Graph,
    leaves: &[NodeId],
    shared: &HashSet<NodeId>,
) -> Vec<NodeId> {
    let mut out = Vec::with_capacity(leaves.len());
    for &leaf in leaves {
        let opened = (g.op(leaf) == Op::Pow && !shared.contains(&leaf))
            .then(|| (g.args(leaf)[0], g.args(leaf)[1]))
            .filter(|&(base, e)| {
                g.op(base) == Op::Mul && g.number_of(e).is_some_and(|n| n.is_integer())
            })
            .and_then(|(base, e)| Some((small_flat(g, base, Op::Mul, SMALL)?, e)));
        match opened {
            Some((factors, e)) => out.extend(factors.into_iter().map(|f| g.pow(f, e))),
            None => out.push(leaf),
        }
    }
    out
}

/// True when some term of the sum `sum` has a negative coefficient.
fn has_negative_term(g: &Graph, sum: NodeId) -> bool {
    small_flat(g, sum, Op::Add, SMALL).is_some_and(|terms| {
        terms.iter().any(|&t| g.coefficient(t) < 0.0 || g.value(t).is_some_and(|v| v < 0.0))
    })
}

/// A product of `leaves` in canonical form; `shared` as for [`rebuild_sum`].
pub(super) fn rebuild_product(
    g: &mut Graph,
    leaves: &[NodeId],
    shared: &HashSet<NodeId>,
) -> NodeId {
    product_of_factors(g, leaves, shared, Pass::Full)
}

/// [`rebuild_product`] for `pass`: [`Pass::Quick`] spreads over a sum only a minus that a
/// term can take (`-(x - y)` is `y - x`); another number would multiply each of its terms
/// where one product did (`2*(a + b)` stays).
fn product_of_factors(
    g: &mut Graph,
    leaves: &[NodeId],
    shared: &HashSet<NodeId>,
    pass: Pass,
) -> NodeId {
    let leaves = &open_powers_of_products(g, leaves, shared);
    let mut coefficient = Number::int(1);
    let mut factors: Vec<(NodeId, NodeId)> = Vec::new();
    let mut index: HashMap<NodeId, usize> = HashMap::default();
    for &leaf in leaves {
        let (c, rest) = match g.number_of(leaf) {
            Some(v) => (v, None),
            None => {
                let (c, rest) = g.split_coefficient(leaf);
                (c, Some(rest))
            }
        };
        let next = coefficient * c;
        if !next.is_exact() && !Graph::foldable(next.to_f64(), &[coefficient.to_f64(), c.to_f64()])
        {
            // The coefficient would underflow or overflow: keep the product as it was.
            return leaves.iter().skip(1).fold(leaves[0], |acc, &f| g.mul(acc, f));
        }
        coefficient = next;
        let Some(rest) = rest else { continue };
        let (base, exponent) = match g.op(rest) {
            Op::Pow if g.op(g.args(rest)[0]) == Op::Func(crate::graph::Func::Sqrt) => {
                let e = g.args(rest)[1];
                let half = g.rational(1, 2);
                (g.args(g.args(rest)[0])[0], g.mul(half, e))
            }
            Op::Pow => (g.args(rest)[0], g.args(rest)[1]),
            // `sqrt(u)` is `u^(1/2)`, so that `sqrt(u)*u` is `u^(3/2)`.
            Op::Func(crate::graph::Func::Sqrt) => (g.args(rest)[0], g.rational(1, 2)),
            _ => (rest, g.constant(1.0)),
        };
        match index.get(&base) {
            Some(&i) => factors[i].1 = g.add(factors[i].1, exponent),
            None => {
                index.insert(base, factors.len());
                factors.push((base, exponent));
            }
        }
    }
    if coefficient.is_zero() {
        return g.constant(0.0);
    }
    let factors = tangents(g, factors);
    let factors = constant_powers(g, factors, &mut coefficient);
    let (mut numerator, mut denominator) = (Vec::new(), Vec::new());
    for (base, exponent) in factors {
        match g.number_of(exponent) {
            Some(e) if e.is_negative() => {
                let positive = g.number(-e);
                denominator.push(g.pow(base, positive));
            }
            _ => numerator.push(g.pow(base, exponent)),
        }
    }
    numerator.retain(|&f| g.value(f) != Some(1.0));
    numerator.sort_by(|&a, &b| g.product_cmp(a, b));
    denominator.sort_by(|&a, &b| g.product_cmp(a, b));
    if let [sum] = numerator.as_slice() {
        // A whole number spreads over a sum on its own (`2*a - 2*b`); over a fraction's
        // numerator, or in the quick pass, only a minus that a term can take (`(x - y)/z`,
        // not `-(y - x)/z`).
        let spreads = match (pass, denominator.is_empty()) {
            (Pass::Full, true) => !coefficient.is_one() && coefficient.is_integer(),
            _ => coefficient == Number::int(-1) && has_negative_term(g, *sum),
        };
        if g.op(*sum) == Op::Add && spreads && !shared.contains(sum) {
            if let Some(terms) = small_flat(g, *sum, Op::Add, SMALL) {
                let scaled: Vec<NodeId> =
                    terms.into_iter().map(|t| g.scale(coefficient, t)).collect();
                let sum = rebuild_sum(g, &scaled, shared);
                if denominator.is_empty() {
                    return sum;
                }
                numerator = vec![sum];
                coefficient = Number::int(1);
            }
        }
    }
    // With nowhere to go above, a minus goes into a sum below that can take it:
    // `1/(q - 1)`, not `-1/(1 - q)` (only a lone sum: flipping one of several factors
    // would keep `1 - x` and `x - 1` elsewhere from combining).
    if coefficient == Number::int(-1) && !numerator.iter().any(|&f| g.op(f) == Op::Add) {
        if let [sum] = denominator[..] {
            if g.op(sum) == Op::Add && has_negative_term(g, sum) && !shared.contains(&sum) {
                if let Some(terms) = small_flat(g, sum, Op::Add, SMALL) {
                    let negated: Vec<NodeId> = terms.into_iter().map(|t| g.neg(t)).collect();
                    denominator = vec![rebuild_sum(g, &negated, shared)];
                    coefficient = Number::int(1);
                }
            }
        }
    }
    // The coefficient goes into the leading factor the way the parser's minus puts it
    // (`scale`): `-x*y`, never `-1*(x*y)`, which would not read back as the same node.
    let mut factors = numerator.into_iter();
    let top = match factors.next() {
        Some(first) => {
            let head = g.scale(coefficient, first);
            factors.fold(head, |acc, f| g.mul(acc, f))
        }
        None => g.number(coefficient),
    };
    if denominator.is_empty() {
        return top;
    }
    let first = denominator[0];
    let bottom = denominator[1..].iter().fold(first, |acc, &f| g.mul(acc, f));
    let m1 = g.constant(-1.0);
    let inverse = g.pow(bottom, m1);
    g.mul(top, inverse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Formula;

    /// The quick pass alone (before `for_evaluation`'s check) adds no node to a long sum
    /// with a repeated term (no `2*t`) and a number times a sum (no product per term).
    #[test]
    fn quick_pass_adds_no_nodes_to_a_long_sum() {
        let terms: Vec<String> = (0..40).map(|i| format!("sin({i}.5*x)")).collect();
        let src = format!("{} + sin(3.5*x) + 3*(x + y + z)", terms.join(" + "));
        let mut f = Formula::parse(&src).unwrap();
        let root = f.root();
        let g = f.graph_mut();
        let reach = Reach::new(g, &[root]);
        let quick = simplify_once(g, &[root], &reach, Pass::Quick).unwrap();
        assert_ne!(quick[0], root, "the pass rebuilds the sum pairwise");
        assert_eq!(walk::count_reachable(g, &quick, usize::MAX), Some(reach.order.len()));
    }

    /// A long sum already added pairwise, with a term there twice far apart, is kept as
    /// it is (the pair is not moved together, which would rebuild every addition).
    #[test]
    fn quick_pass_keeps_a_pairwise_sum_with_a_repeat() {
        let mut f = Formula::parse("x").unwrap();
        let x = f.root();
        let g = f.graph_mut();
        let mut terms: Vec<NodeId> = (0..40)
            .map(|i| {
                let c = g.constant(i as f64 + 0.5);
                let cx = g.mul(c, x);
                g.func(crate::graph::Func::Sin, &[cx])
            })
            .collect();
        terms.insert(30, terms[3]);
        let root = g.sum(&terms);
        let reach = Reach::new(g, &[root]);
        assert_eq!(simplify_once(g, &[root], &reach, Pass::Quick).unwrap(), [root]);
    }
}
