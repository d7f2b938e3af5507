//! Tidying for print, on top of the canonical form: every small sum is also tried with its
//! common factors pulled out (`exp(x)*a + exp(x)*b` is `exp(x)*(a + b)`) and over a common
//! denominator (`1 - x^2/(x^2 + 1)` is `1/(x^2 + 1)`), and the form that prints smallest
//! is kept. Only small graphs are tidied (a derivative too large to read is printed with
//! `--cse` anyway), so the cost stays bounded; evaluation never needs it.

use super::{rebuild, rebuild_product, rebuild_sum, simplify, small_flat};
use crate::error::Result;
use crate::graph::{walk, Graph, NodeId, Number, Op};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Graphs with more nodes than this are left in canonical form: a derivative that large is
/// read through `--cse`, and tidying it would cost several times the canonical pass (20 ms
/// against 2 ms on the 3,000 nodes of the 1,000-deep chain's gradient).
const TIDY_LIMIT: usize = 1_000;

/// Roots are tidied one by one while their number times the graph's nodes stays below this
/// (each root's pass walks about the whole graph): a gradient of 385 parameters over 1,600
/// nodes is tidied as one set.
const PER_ROOT_BUDGET: usize = 100_000;

/// Sums with more terms than this are left as they are.
const MAX_TERMS: usize = 16;

/// Products with more factors than this are not split into factors.
const MAX_FACTORS: usize = 32;

/// The canonical form of `roots`, tidied for print: never larger than the canonical form.
/// Small graphs are tidied root by root, so that what one root shares with another does not
/// keep it from its smallest text (`x*t*x` is `x^2*t` when `x*t` is shared); large ones are
/// simplified together, which keeps their sharing (and their time) in bounds.
pub fn simplify_for_print(g: &mut Graph, roots: &[NodeId]) -> Result<Vec<NodeId>> {
    let nodes = walk::reachable(g, roots).len();
    if roots.len() > 1 && nodes <= TIDY_LIMIT && roots.len() * nodes <= PER_ROOT_BUDGET {
        return roots.iter().map(|&r| Ok(tidy_root(g, &[r])?[0])).collect();
    }
    tidy_root(g, roots)
}

fn tidy_root(g: &mut Graph, roots: &[NodeId]) -> Result<Vec<NodeId>> {
    let mut best = simplify(g, roots)?;
    let mut sizes = Sizes::default();
    for _ in 0..4 {
        if walk::reachable(g, &best).len() > TIDY_LIMIT {
            break;
        }
        let tidied = tidy_once(g, &best, &mut sizes);
        // Through the canonical pass again, so that the printed text reads back as the
        // same node (it may spread a pulled-out number again: `2*(a - b)`).
        let next = simplify(g, &tidied)?;
        if rank(g, &next, &mut sizes) >= rank(g, &best, &mut sizes) {
            break;
        }
        best = next;
    }
    Ok(best)
}

/// One bottom-up pass: each node rebuilt over its tidied operands; each sum in its smallest
/// form.
fn tidy_once(g: &mut Graph, roots: &[NodeId], sizes: &mut Sizes) -> Vec<NodeId> {
    let order = walk::reachable(g, roots);
    let mut new: HashMap<NodeId, NodeId> = HashMap::default();
    for &n in &order {
        let args: Vec<NodeId> = g.args(n).iter().map(|a| new[a]).collect();
        let rebuilt = rebuild(g, n, &args);
        let best = match g.op(rebuilt) {
            Op::Add => smallest_sum(g, rebuilt, sizes),
            Op::Mul | Op::Pow => smallest_product(g, rebuilt, sizes),
            _ => rebuilt,
        };
        new.insert(n, best);
    }
    roots.iter().map(|r| new[r]).collect()
}

/// A term of a sum: its coefficient and its factors `base^exponent`.
struct Term {
    coefficient: Number,
    factors: Vec<(NodeId, Number)>,
}

fn smallest_sum(g: &mut Graph, sum: NodeId, sizes: &mut Sizes) -> NodeId {
    let Some(terms) = split_terms(g, sum) else {
        return sum;
    };
    let candidates =
        [common_factor(g, &terms), common_denominator(g, &terms, sizes), expanded(g, &terms)];
    candidates.into_iter().flatten().fold(sum, |best, c| {
        if sizes.of(g, c) < sizes.of(g, best) {
            c
        } else {
            best
        }
    })
}

fn split_terms(g: &mut Graph, sum: NodeId) -> Option<Vec<Term>> {
    let leaves = small_flat(g, sum, Op::Add, MAX_TERMS)?;
    leaves
        .into_iter()
        .map(|leaf| {
            if let Some(c) = g.number_of(leaf) {
                return Some(Term { coefficient: c, factors: Vec::new() });
            }
            let (coefficient, rest) = g.split_coefficient(leaf);
            let mut factors: Vec<(NodeId, Number)> = Vec::new();
            for (base, e) in powered_factors(g, rest)? {
                // A base met twice (`x * (y*x^2)` kept apart by sharing) is one factor.
                match factors.iter_mut().find(|(b, _)| *b == base) {
                    Some((_, total)) => *total = *total + e,
                    None => factors.push((base, e)),
                }
            }
            Some(Term { coefficient, factors })
        })
        .collect()
}

/// The factors of a product as `(base, exponent)`, a product to a whole power spread over
/// its factors (`(x*y^2)^-1` is `x^-1`, `y^-2`). `None` past [`MAX_FACTORS`].
fn powered_factors(g: &Graph, product: NodeId) -> Option<Vec<(NodeId, Number)>> {
    let mut out = Vec::new();
    let mut stack = vec![(product, Number::int(1))];
    while let Some((n, outer)) = stack.pop() {
        if out.len() + stack.len() > MAX_FACTORS {
            return None;
        }
        let (base, e) = power_parts(g, n);
        let whole = e.exact().is_some_and(|r| r.is_integer());
        match g.op(n) {
            Op::Mul => stack.extend(g.args(n).iter().rev().map(|&a| (a, outer))),
            _ if whole && g.op(base) == Op::Mul => {
                stack.extend(g.args(base).iter().rev().map(|&a| (a, outer * e)));
            }
            _ => out.push((base, e * outer)),
        }
    }
    Some(out)
}

/// `(base, exponent)` of a factor as the constructors see it (`x` is `x^1`, `sqrt(u)` is
/// `u^(1/2)`).
fn power_parts(g: &Graph, f: NodeId) -> (NodeId, Number) {
    g.power_parts(f).unwrap_or((f, Number::int(1)))
}

/// The factors every term has, with the exponent all share (the smallest positive, or the
/// negative closest to zero), pulled out: `common * (t1/common + t2/common + ...)`.
fn common_factor(g: &mut Graph, terms: &[Term]) -> Option<NodeId> {
    let first = terms.first()?;
    let mut common: Vec<(NodeId, Number)> = Vec::new();
    for &(base, e) in &first.factors {
        let mut shared = e;
        for t in &terms[1..] {
            let other =
                t.factors.iter().find(|(b, _)| *b == base).map_or(Number::int(0), |&(_, e)| e);
            shared = match (shared.is_negative(), other.is_negative()) {
                (false, false) if other.to_f64() < shared.to_f64() => other,
                (true, true) if other.to_f64() > shared.to_f64() => other,
                (false, false) | (true, true) => shared,
                _ => Number::int(0),
            };
        }
        if !shared.is_zero() {
            common.push((base, shared));
        }
    }
    let scale = common_coefficient(terms);
    if common.is_empty() && scale.is_one() {
        return None;
    }
    let unscale = scale.recip()?;
    let inner: Vec<NodeId> = terms
        .iter()
        .map(|t| {
            let divided = t.factors.iter().map(|&(b, e)| {
                let take = common.iter().find(|(c, _)| *c == b).map_or(Number::int(0), |&(_, s)| s);
                (b, e + -take)
            });
            term_node(g, t.coefficient * unscale, divided)
        })
        .collect();
    let inner = rebuild_sum(g, &inner, &HashSet::default());
    let outer = term_node(g, scale, common.into_iter());
    Some(g.mul(outer, inner))
}

/// The largest exact number every coefficient is a whole multiple of (negative when all
/// are), or 1.
fn common_coefficient(terms: &[Term]) -> Number {
    let exact: Option<Vec<_>> = terms.iter().map(|t| t.coefficient.exact()).collect();
    let Some(exact) = exact else {
        return Number::int(1);
    };
    let numerator = exact.iter().fold(0, |acc, r| gcd(acc, *r.numer()));
    let denominator = exact.iter().fold(1, |acc: i64, r| {
        let d = *r.denom();
        (acc / gcd(acc, d)).checked_mul(d).unwrap_or(1)
    });
    if numerator == 0 {
        return Number::int(1);
    }
    let sign = if exact.iter().all(|r| *r.numer() < 0) { -1 } else { 1 };
    Number::ratio(sign * numerator, denominator)
}

fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    i64::try_from(a).unwrap_or(1)
}

/// Every term over the product of all denominators: `(n1*d2 + n2*d1)/(d1*d2)`.
fn common_denominator(g: &mut Graph, terms: &[Term], sizes: &mut Sizes) -> Option<NodeId> {
    let denominator = denominator(terms);
    if denominator.is_empty() || terms.len() < 2 {
        return None;
    }
    let numerator = times(g, terms, &denominator);
    // Multiplied out, the numerator often collapses (`(x + y)^2 - x*(x + y)` is `y*(x + y)`).
    let numerator = match split_terms(g, numerator).and_then(|t| expanded(g, &t)) {
        Some(e) if sizes.of(g, e) < sizes.of(g, numerator) => e,
        _ => numerator,
    };
    let bottom = term_node(g, Number::int(1), denominator.into_iter());
    let m1 = g.constant(-1.0);
    let inverse = g.pow(bottom, m1);
    Some(g.mul(numerator, inverse))
}

/// The product of the terms' denominators: each base with the largest exponent any term
/// divides by (`x^2` for `y^2/x^2 + 1/x`).
fn denominator(terms: &[Term]) -> Vec<(NodeId, Number)> {
    let mut denominator: Vec<(NodeId, Number)> = Vec::new();
    for t in terms {
        for &(base, e) in t.factors.iter().filter(|(_, e)| e.is_negative()) {
            match denominator.iter_mut().find(|(b, _)| *b == base) {
                Some((_, d)) if (-e).to_f64() > d.to_f64() => *d = -e,
                Some(_) => {}
                None => denominator.push((base, -e)),
            }
        }
    }
    denominator
}

/// The sum of `terms`, each multiplied by `factors` (like bases combine: `x^2*(y^2/x^2 + 1)`
/// is `y^2 + x^2`).
fn times(g: &mut Graph, terms: &[Term], factors: &[(NodeId, Number)]) -> NodeId {
    let scaled: Vec<NodeId> = terms
        .iter()
        .map(|t| term_node(g, t.coefficient, t.factors.iter().chain(factors).copied()))
        .collect();
    rebuild_sum(g, &scaled, &HashSet::default())
}

/// The product with every fraction inside a sum raised to a whole power cleared into
/// the product: `s^k = (d*s)^k / d^k` for the sum's denominator `d` (whole exponents only,
/// so the identity holds for every sign), and sums in the denominator cancelled against a
/// sum in the numerator, kept when it prints smaller: `y/(x^2*(y^2/x^2 + 1))` is
/// `y/(y^2 + x^2)`; `(x^4 - y^4)/(x^2 + y^2)^3` is `(x^2 - y^2)/(x^2 + y^2)^2`.
fn smallest_product(g: &mut Graph, product: NodeId, sizes: &mut Sizes) -> NodeId {
    let (coefficient, rest) = g.split_coefficient(product);
    let Some(factors) = powered_factors(g, rest) else {
        return product;
    };
    let mut cleared = false;
    let mut all = Vec::with_capacity(factors.len());
    for (base, e) in factors {
        match cleared_sum_power(g, base, e) {
            Some(parts) => {
                cleared = true;
                all.extend(parts);
            }
            None => all.push((base, e)),
        }
    }
    let cancelled = cancel_sums(g, &mut all);
    if !cleared && !cancelled {
        return product;
    }
    let candidate = term_node(g, coefficient, all.into_iter());
    if rank(g, &[candidate], sizes) < rank(g, &[product], sizes) {
        candidate
    } else {
        product
    }
}

/// `(d*s)^k` and `d^-k` for `s^k`, `s` a sum with denominator `d`, when `k` and the
/// exponents of `d` are whole numbers.
fn cleared_sum_power(g: &mut Graph, sum: NodeId, k: Number) -> Option<Vec<(NodeId, Number)>> {
    let whole = |e: Number| e.exact().is_some_and(|r| r.is_integer());
    if g.op(sum) != Op::Add || !whole(k) {
        return None;
    }
    let terms = split_terms(g, sum)?;
    let denominator = denominator(&terms);
    if denominator.is_empty() || !denominator.iter().all(|&(_, e)| whole(e)) {
        return None;
    }
    let inner = times(g, &terms, &denominator);
    let mut parts = vec![(inner, k)];
    parts.extend(denominator.into_iter().map(|(b, e)| (b, e * -k)));
    Some(parts)
}

/// Divides each sum of `factors` to the first power by the sums they are divided by, as
/// long as the division is exact. True when something cancelled.
fn cancel_sums(g: &mut Graph, factors: &mut [(NodeId, Number)]) -> bool {
    let one = Number::int(1);
    let mut cancelled = false;
    for i in 0..factors.len() {
        for j in 0..factors.len() {
            let divides = |f: &(NodeId, Number)| {
                f.1.is_negative() && f.1.exact().is_some_and(|r| r.is_integer())
            };
            while factors[i].1 == one && divides(&factors[j]) && g.op(factors[j].0) == Op::Add {
                let Some(quotient) = divide(g, factors[i].0, factors[j].0) else {
                    break;
                };
                factors[i].0 = quotient;
                factors[j].1 = factors[j].1 + one;
                cancelled = true;
            }
        }
    }
    cancelled
}

/// A polynomial over the bases of its terms: each term a coefficient and the whole,
/// non-negative exponents of the bases (in `Polynomial::bases` order).
struct Polynomial {
    bases: Vec<NodeId>,
    terms: Vec<(Number, Vec<i64>)>,
}

impl Polynomial {
    /// `a` and `b` as polynomials over the same bases, when both are sums of monomials with
    /// exact coefficients and whole non-negative exponents.
    fn pair(g: &mut Graph, a: NodeId, b: NodeId) -> Option<(Polynomial, Polynomial)> {
        let (ta, tb) = (split_terms(g, a)?, split_terms(g, b)?);
        let mut bases: Vec<NodeId> = Vec::new();
        for (base, _) in ta.iter().chain(&tb).flat_map(|t| &t.factors) {
            if !bases.contains(base) {
                bases.push(*base);
            }
        }
        let convert = |terms: &[Term]| -> Option<Vec<(Number, Vec<i64>)>> {
            terms
                .iter()
                .map(|t| {
                    let mut exponents = vec![0; bases.len()];
                    for (base, e) in &t.factors {
                        let r = e.exact().filter(|r| r.is_integer() && *r.numer() >= 0)?;
                        exponents[bases.iter().position(|b| b == base)?] += r.numer();
                    }
                    t.coefficient.is_exact().then_some((t.coefficient, exponents))
                })
                .collect()
        };
        let (pa, pb) = (convert(&ta)?, convert(&tb)?);
        Some((Polynomial { bases: bases.clone(), terms: pa }, Polynomial { bases, terms: pb }))
    }

    /// The term with the largest exponents (lexicographically): a monomial order.
    fn leading(&self) -> Option<&(Number, Vec<i64>)> {
        self.terms.iter().max_by(|a, b| a.1.cmp(&b.1))
    }

    /// Adds `c * monomial * other`, dropping terms that cancel.
    fn add_scaled(&mut self, c: Number, monomial: &[i64], other: &Polynomial) {
        for (oc, oe) in &other.terms {
            let e: Vec<i64> = oe.iter().zip(monomial).map(|(a, b)| a + b).collect();
            match self.terms.iter().position(|(_, te)| *te == e) {
                Some(k) => {
                    self.terms[k].0 = self.terms[k].0 + c * *oc;
                    if self.terms[k].0.is_zero() {
                        self.terms.swap_remove(k);
                    }
                }
                None => self.terms.push((c * *oc, e)),
            }
        }
    }

    fn node(&self, g: &mut Graph) -> NodeId {
        let terms: Vec<NodeId> = (self.terms.iter())
            .map(|(c, e)| {
                let factors = self.bases.iter().zip(e).map(|(&b, &k)| (b, Number::int(k)));
                term_node(g, *c, factors)
            })
            .collect();
        rebuild_sum(g, &terms, &HashSet::default())
    }
}

/// `a / b` when the sum `b` divides the sum `a` exactly (as polynomials over their bases).
fn divide(g: &mut Graph, a: NodeId, b: NodeId) -> Option<NodeId> {
    let (mut remainder, divisor) = Polynomial::pair(g, a, b)?;
    let (lead_c, lead_e) = divisor.leading()?.clone();
    let mut quotient = Polynomial { bases: divisor.bases.clone(), terms: Vec::new() };
    for _ in 0..MAX_EXPANDED {
        let Some((c, e)) = remainder.leading().cloned() else {
            return (!quotient.terms.is_empty()).then(|| quotient.node(g));
        };
        let monomial: Vec<i64> = e.iter().zip(&lead_e).map(|(a, b)| a - b).collect();
        if monomial.iter().any(|&k| k < 0) {
            return None;
        }
        let scale = c * lead_c.recip()?;
        if !scale.is_exact() {
            return None;
        }
        remainder.add_scaled(-scale, &monomial, &divisor);
        quotient.terms.push((scale, monomial));
    }
    None
}

/// Terms expanded past this many are not multiplied out.
const MAX_EXPANDED: usize = 64;

/// The sum multiplied out: every factor that is a small sum (to a whole power up to 3) is
/// distributed, and like terms combine. `None` when nothing distributes or it grows too big.
fn expanded(g: &mut Graph, terms: &[Term]) -> Option<NodeId> {
    let mut monomials: Vec<(Number, Vec<(NodeId, Number)>)> = Vec::new();
    let mut distributed = false;
    // Floats stay out: multiplying out `1 + a*(1 - s)` can cancel (`a = 1e20`), and with
    // decimals the user wrote, the form they wrote is the better one to print anyway.
    if terms.iter().any(|t| !t.coefficient.is_exact()) {
        return None;
    }
    for t in terms {
        let mut partial = vec![(t.coefficient, Vec::new())];
        for &(base, e) in &t.factors {
            let whole = e.exact().filter(|r| r.is_integer() && *r.numer() >= 1 && *r.numer() <= 3);
            // `sigmoid(-u)` multiplies out as `1 - sigmoid(u)` (`bce(sigmoid(z), y)'` is
            // `sigmoid(z) - y`).
            let base = sigmoid_complement(g, base).unwrap_or(base);
            let small_sum = g.op(base) == Op::Add && small_flat(g, base, Op::Add, 8).is_some();
            match whole.filter(|_| small_sum) {
                Some(k) => {
                    distributed = true;
                    let inner = split_terms(g, base)?;
                    if inner.iter().any(|t| !t.coefficient.is_exact()) {
                        return None;
                    }
                    for _ in 0..*k.numer() {
                        partial = partial
                            .iter()
                            .flat_map(|(c, fs)| {
                                inner.iter().map(move |it| {
                                    let mut f = fs.clone();
                                    f.extend(it.factors.iter().copied());
                                    (*c * it.coefficient, f)
                                })
                            })
                            .collect();
                        if partial.len() > MAX_EXPANDED {
                            return None;
                        }
                    }
                }
                _ => partial.iter_mut().for_each(|(_, fs)| fs.push((base, e))),
            }
        }
        monomials.extend(partial);
        if monomials.len() > MAX_EXPANDED {
            return None;
        }
    }
    if !distributed {
        return None;
    }
    let nodes: Vec<NodeId> =
        monomials.into_iter().map(|(c, fs)| term_node(g, c, fs.into_iter())).collect();
    Some(rebuild_sum(g, &nodes, &HashSet::default()))
}

/// `1 - sigmoid(u)` when `id` is `sigmoid(-u)`.
fn sigmoid_complement(g: &mut Graph, id: NodeId) -> Option<NodeId> {
    if g.op(id) != Op::Func(crate::graph::Func::Sigmoid) {
        return None;
    }
    let (c, u) = g.split_coefficient(g.args(id)[0]);
    if c != Number::int(-1) {
        return None;
    }
    let s = g.func(crate::graph::Func::Sigmoid, &[u]);
    let one = g.constant(1.0);
    Some(g.sub(one, s))
}

/// `c * b1^e1 * b2^e2 * ...` in canonical product form (like bases combine).
fn term_node(
    g: &mut Graph,
    coefficient: Number,
    factors: impl Iterator<Item = (NodeId, Number)>,
) -> NodeId {
    let mut leaves = vec![g.number(coefficient)];
    for (base, e) in factors {
        let e = g.number(e);
        leaves.push(g.pow(base, e));
    }
    rebuild_product(g, &leaves, &HashSet::default())
}

/// How large the printed form of `roots` is: its size, then (between forms of one size)
/// the sum of its whole exponents, so that `(x^2 - y^2)/(x^2 + y^2)^2` wins over
/// `(x^4 - y^4)/(x^2 + y^2)^3`.
fn rank(g: &Graph, roots: &[NodeId], sizes: &mut Sizes) -> (u64, u64) {
    let degree = walk::reachable(g, roots)
        .into_iter()
        .filter(|&n| g.op(n) == Op::Pow)
        .filter_map(|n| g.value(g.args(n)[1]))
        .map(|e| e.abs().min(1e6) as u64)
        .sum();
    (sizes.total(g, roots), degree)
}

/// The size of a node's printed form (operations and leaves, shared parts counted at
/// every use), memoised: nodes never change, so neither do their sizes.
#[derive(Default)]
struct Sizes(HashMap<NodeId, u64>);

impl Sizes {
    fn of(&mut self, g: &Graph, id: NodeId) -> u64 {
        // Depth first, stopping at nodes already sized: each node is sized once per pass.
        let mut stack = vec![(id, false)];
        while let Some((n, operands_done)) = stack.pop() {
            if self.0.contains_key(&n) {
                continue;
            }
            if !operands_done {
                stack.push((n, true));
                stack.extend(g.args(n).iter().map(|&a| (a, false)));
                continue;
            }
            // A minus sign costs nothing: it turns a `+` into a `-`.
            let negation = g.op(n) == Op::Mul && g.value(g.args(n)[0]) == Some(-1.0);
            let size = match negation {
                true => self.0[&g.args(n)[1]],
                false => g.args(n).iter().fold(1u64, |acc, a| acc.saturating_add(self.0[a])),
            };
            self.0.insert(n, size);
        }
        self.0[&id]
    }

    fn total(&mut self, g: &Graph, roots: &[NodeId]) -> u64 {
        roots.iter().fold(0u64, |acc, &r| acc.saturating_add(self.of(g, r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Formula;

    fn tidied(text: &str) -> String {
        let mut f = Formula::parse(text).unwrap();
        let root = f.root();
        let r = simplify_for_print(f.graph_mut(), &[root]).unwrap()[0];
        f.text(r)
    }

    #[test]
    fn common_factors_come_out() {
        assert_eq!(
            tidied("exp(x)*(2*cos(x) - 2*sin(x)) - 2*cos(x)*exp(x) - 2*exp(x)*sin(x)"),
            "-4*exp(x)*sin(x)"
        );
        assert_eq!(tidied("-4*cos(x)*exp(x) - 4*exp(x)*sin(x)"), "-4*exp(x)*(cos(x) + sin(x))");
    }

    #[test]
    fn fractions_combine() {
        assert_eq!(tidied("1 - x^2/(x^2 + 1)"), "1/(x^2 + 1)");
    }

    /// `text` tidied, checked to keep its value at a few points of `x`, `y`, `z`.
    fn tidied_same_value(text: &str) -> String {
        let mut f = Formula::parse(text).unwrap();
        let root = f.root();
        let tidy = simplify_for_print(f.graph_mut(), &[root]).unwrap()[0];
        let vars: Vec<_> = f.var_ids().to_vec();
        for point in [[0.7, -1.3, 2.1], [-2.5, 0.4, 1.7], [3.0, 2.0, -0.6]] {
            let at = &point[..vars.len()];
            let values = crate::eval::evaluate(f.graph(), &[root, tidy], &vars, at).unwrap();
            let scale = values[0].abs().max(1.0);
            assert!((values[0] - values[1]).abs() <= 1e-12 * scale, "{text} at {at:?}: {values:?}");
        }
        f.text(tidy)
    }

    #[test]
    fn fractions_inside_powered_sums_clear() {
        assert_eq!(tidied_same_value("y/(x^2*(y^2/x^2 + 1))"), "y/(x^2 + y^2)");
        assert_eq!(tidied_same_value("1/(x*(y^2/x^2 + 1))"), "x/(x^2 + y^2)");
        assert_eq!(tidied_same_value("y/(x^3*(y^2/x^2 + 1)^2)"), "x*y/(x^2 + y^2)^2");
        assert_eq!(tidied_same_value("(y/x + 1)^3/x"), "(x + y)^3/x^4");
        // A fractional power keeps its sum: `x^2*(1/x^2 + 1)^(1/2)` is not `sqrt(x^2 + 1)`.
        assert_eq!(tidied_same_value("x^2*sqrt(1/x^2 + 1)"), "x^2*sqrt(1/x^2 + 1)");
    }

    #[test]
    fn sums_cancel_when_they_divide() {
        assert_eq!(tidied_same_value("(x^4 - y^4)/(x^2 + y^2)^3"), "(x^2 - y^2)/(x^2 + y^2)^2");
        assert_eq!(tidied_same_value("(x^2 - 1)/(x + 1)^2"), "(x - 1)/(x + 1)");
        assert_eq!(tidied_same_value("(x^3 + y^3)/(x + y)"), "x^2 + y^2 - x*y");
        assert_eq!(tidied_same_value("(x^2 + 1)/(x + 1)"), "(x^2 + 1)/(x + 1)");
        assert_eq!(tidied_same_value("(x*z + y*z)/(x + y)^2"), "z/(x + y)");
    }

    #[test]
    fn a_minus_goes_into_the_numerator_that_can_take_it() {
        assert_eq!(tidied("-(y - x)/(x + y)"), "(x - y)/(x + y)");
        assert_eq!(tidied("-(x + 1)/y"), "-(x + 1)/y");
    }
}
