//! The DAG that holds a formula and all its derivatives.
//!
//! Invariants, which every pass relies on:
//! - **Append-only.** Nodes are never removed, and a node is always added after its operands,
//!   so ascending [`NodeId`] order is a topological order and every pass is a plain loop.
//! - **Hash-consed.** A node is its operation plus its ordered operands; building an equal
//!   node returns the existing id, so equal subexpressions are one node.
//! - **Built only through the constructors** in `build.rs`, which fold constants, drop `+0`,
//!   `*1`, `^1`, put constants first and sort commutative operands, before interning.
//!
//! The nodes live in one `Vec`, indexed by [`NodeId`]. A petgraph `DiGraph` that mirrors the
//! operands as edges (operand -> user, weighted by the operand's position) is built when
//! [`Graph::dag`] is first asked for, for export and graph algorithms; building it with
//! every node would cost an edge list per node that no pass reads.

mod build;
pub mod lower;
mod number;
pub mod op;
mod reduce;
pub mod walk;

pub use build::SUM_RUN;
pub use op::{Func, Number, Op};

use compact_str::CompactString;
use hashbrown::hash_table::{Entry, HashTable};
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHasher;
use smallvec::SmallVec;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

/// The index of a node in a [`Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// The position of the node in creation (and topological) order.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The id at `index` (for tables indexed by node).
    pub fn from_index(index: usize) -> NodeId {
        NodeId(index as u32)
    }
}

/// A variable's identity: its index in its graph's variable table (`Op::Var` holds the
/// same number). Ids are given in the order variables are first named, from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(u32);

impl VarId {
    /// The position in the variable table (for tables indexed by variable).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One entry of a graph's variable table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    /// Its id in the graph.
    pub id: VarId,
    /// Its name in the formula text (kept inline when short, as array elements' names
    /// are: declaring a large array makes no allocation a name).
    pub name: CompactString,
}

/// An operation with its ordered operands: the unit of hash-consing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    /// What the node computes.
    pub op: Op,
    /// Its operands, in order (inline up to two, the common case).
    pub args: SmallVec<[NodeId; 2]>,
}

/// Facts about a node computed once when it is interned, used to order operands canonically.
#[derive(Clone, Copy, Debug)]
struct Meta {
    /// Structural hash, independent of creation order.
    hash: u64,
    /// The node that names this one for ordering: a product's first non-constant factor,
    /// a power's base, else the node itself.
    lead: NodeId,
    /// The leading coefficient: a constant's value, a product's leftmost constant, else 1.
    coef: f64,
    /// The total degree (2 for `x^2` and `x*y`, 0 for a constant): orders `x` before `x^2`.
    degree: f64,
    /// The alphabetically first variable in the node, [`NO_VAR`] when it has none (a
    /// sentinel rather than an `Option`, which would make the record 8 bytes longer).
    min_var: u32,
    /// The longest operand path below the node: orders `cos(x)` before `cos(sin(x))`.
    depth: u32,
    /// Whether a variable is below the node.
    has_var: bool,
    /// Whether the node is a number (then `coef` is its value).
    number: bool,
    /// [`lead_rank`] of `lead`.
    lead_rank: u8,
    /// [`name_rank`] of `lead`'s function, `u8::MAX` when `lead` is no call.
    lead_func: u8,
}

/// [`Meta::min_var`] of a node without variables.
const NO_VAR: u32 = u32::MAX;

// Every node has a `Meta`, a large graph's second table after its nodes: kept at 40 bytes.
const _: () = assert!(std::mem::size_of::<Meta>() == 40);

/// Default cap on the number of nodes a graph may hold.
pub const DEFAULT_NODE_LIMIT: usize = 5_000_000;

/// A hash-consed, append-only expression DAG.
#[derive(Clone, Debug)]
pub struct Graph {
    /// The nodes, by [`NodeId`].
    nodes: Vec<Node>,
    /// The petgraph mirror of `nodes`, built on demand; emptied when a node is added.
    dag: OnceLock<DiGraph<Node, u32>>,
    /// Every node, by its id alone: a slot is 4 bytes, and a probe compares the node its
    /// candidate names (by [`node_hash`]), so that the table of a large graph stays in
    /// cache and a new node costs no copy of its operands as a key.
    index: HashTable<NodeId>,
    meta: Vec<Meta>,
    variables: Vec<Variable>,
    /// The variables by name, as ids alone (a probe compares the name in the table).
    var_ids: HashTable<VarId>,
    node_limit: usize,
}

impl Default for Graph {
    fn default() -> Self {
        Graph::new()
    }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph {
            nodes: Vec::new(),
            dag: OnceLock::new(),
            index: HashTable::new(),
            meta: Vec::new(),
            variables: Vec::new(),
            var_ids: HashTable::new(),
            node_limit: DEFAULT_NODE_LIMIT,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// True when the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Room for `additional` more nodes without growing the node table or the interning
    /// table on the way, when a pass knows about how many it will make.
    pub fn reserve(&mut self, additional: usize) {
        self.nodes.reserve(additional);
        self.meta.reserve(additional);
        self.reserve_index(additional);
    }

    /// Room in the index for `additional` more nodes. The index is built again, larger,
    /// from the nodes in id order, which reads them in memory order (rehashing the table in
    /// place would read them in the table's random order).
    fn reserve_index(&mut self, additional: usize) {
        let needed = self.index.len() + additional;
        if needed <= self.index.capacity() {
            return;
        }
        let nodes = &self.nodes;
        let rehash = |id: &NodeId| nodes[id.index()].index_hash();
        let mut index = HashTable::with_capacity(needed.max(2 * self.index.capacity()));
        for (k, node) in nodes.iter().enumerate() {
            index.insert_unique(node.index_hash(), NodeId::from_index(k), rehash);
        }
        self.index = index;
    }

    /// Room for `additional` more variables (an array declared).
    pub fn reserve_vars(&mut self, additional: usize) {
        self.variables.reserve(additional);
        let variables = &self.variables;
        self.var_ids.reserve(additional, |v| name_hash(&variables[v.index()].name));
    }

    /// The most nodes that differentiation and simplification may grow the graph to.
    pub fn node_limit(&self) -> usize {
        self.node_limit
    }

    /// Sets the node limit.
    pub fn set_node_limit(&mut self, limit: usize) {
        self.node_limit = limit;
    }

    /// The node behind `id`.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The operation of `id`.
    pub fn op(&self, id: NodeId) -> Op {
        self.node(id).op
    }

    /// The operands of `id`, in order.
    pub fn args(&self, id: NodeId) -> &[NodeId] {
        self.node(id).args.as_slice()
    }

    /// The value of `id` if it is a number (not a named constant), as the nearest f64.
    pub fn value(&self, id: NodeId) -> Option<f64> {
        self.op(id).value()
    }

    /// The number `id` holds, if it is one.
    pub fn number_of(&self, id: NodeId) -> Option<Number> {
        self.op(id).number()
    }

    /// The name of variable number `var` (as `Op::Var` holds it).
    pub fn var_name(&self, var: u32) -> &str {
        &self.variables[var as usize].name
    }

    /// The variable table: every variable named in this graph, in id order.
    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    /// The table entry of `id`.
    pub fn variable(&self, id: VarId) -> &Variable {
        &self.variables[id.index()]
    }

    /// The id of the variable called `name`, if the graph has named it.
    pub fn var_id(&self, name: &str) -> Option<VarId> {
        let variables = &self.variables;
        self.var_ids.find(name_hash(name), |v| variables[v.index()].name == name).copied()
    }

    /// The id of the variable called `name`, entered in the table if it is new (a scalar).
    pub fn intern_var(&mut self, name: &str) -> VarId {
        self.intern_var_by(name)
    }

    /// [`Graph::intern_var`] of a name made for it (an array element's), kept without a
    /// copy when it is new.
    pub fn intern_var_owned(&mut self, name: CompactString) -> VarId {
        self.intern_var_by(name)
    }

    /// The id of the variable called `name`, entered in the table if it is new.
    fn intern_var_by(&mut self, name: impl AsRef<str> + Into<CompactString>) -> VarId {
        let id = VarId(self.variables.len() as u32);
        let text = name.as_ref();
        let variables = &self.variables;
        let same = |v: &VarId| variables[v.index()].name == text;
        let rehash = |v: &VarId| name_hash(&variables[v.index()].name);
        match self.var_ids.entry(name_hash(text), same, rehash) {
            Entry::Occupied(found) => return *found.get(),
            Entry::Vacant(slot) => {
                slot.insert(id);
            }
        }
        self.variables.push(Variable { id, name: name.into() });
        id
    }

    /// The variable `id` refers to, if `node` is a variable.
    pub fn var_of(&self, node: NodeId) -> Option<VarId> {
        match self.op(node) {
            Op::Var(v) => Some(VarId(v)),
            _ => None,
        }
    }

    /// The variable node called `name`, if the graph has one.
    pub fn find_var(&self, name: &str) -> Option<NodeId> {
        let var = self.var_id(name)?;
        self.find(Op::Var(var.0), &[])
    }

    /// The name of `id` if it is a variable.
    pub fn name_of(&self, id: NodeId) -> Option<&str> {
        match self.op(id) {
            Op::Var(v) => Some(self.var_name(v)),
            _ => None,
        }
    }

    /// The petgraph view: nodes carry [`Node`], edges go operand -> user with the position
    /// (added in node order, so that petgraph lists a node's users newest first). Built on
    /// the first call after the graph last grew.
    pub fn dag(&self) -> &DiGraph<Node, u32> {
        self.dag.get_or_init(|| {
            let edges = self.nodes.iter().map(|n| n.args.len()).sum();
            let mut dag = DiGraph::with_capacity(self.nodes.len(), edges);
            for node in &self.nodes {
                dag.add_node(node.clone());
            }
            for (user, node) in self.nodes.iter().enumerate() {
                for (pos, arg) in node.args.iter().enumerate() {
                    dag.add_edge(NodeIndex::new(arg.index()), NodeIndex::new(user), pos as u32);
                }
            }
            dag
        })
    }

    /// The leading coefficient of `id` (`-2` for `-2*x*y`, `1` for `x`).
    pub fn coefficient(&self, id: NodeId) -> f64 {
        self.meta[id.index()].coef
    }

    /// The node `op(args)`, if the graph has it.
    fn find(&self, op: Op, args: &[NodeId]) -> Option<NodeId> {
        let nodes = &self.nodes;
        self.index.find(node_hash(op, args), |id| nodes[id.index()].is(op, args)).copied()
    }

    /// Adds `op(args)` unless an equal node exists; returns its id. One probe of the table
    /// serves both the look-up and the insertion.
    fn intern(&mut self, op: Op, args: &[NodeId]) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        if let Some(found) = self.claim(op, args, id) {
            return found;
        }
        let node = Node { op, args: SmallVec::from_slice(args) };
        let meta = self.compute_meta(&node);
        self.nodes.push(node);
        self.meta.push(meta);
        self.dag.take();
        id
    }

    /// The node `op(args)` if the graph has it; else `None`, after entering `id` for it.
    fn claim(&mut self, op: Op, args: &[NodeId], id: NodeId) -> Option<NodeId> {
        self.reserve_index(1);
        let nodes = &self.nodes;
        let same = |id: &NodeId| nodes[id.index()].is(op, args);
        let rehash = |id: &NodeId| nodes[id.index()].index_hash();
        match self.index.entry(node_hash(op, args), same, rehash) {
            Entry::Occupied(found) => Some(*found.get()),
            Entry::Vacant(slot) => {
                slot.insert(id);
                None
            }
        }
    }

    fn compute_meta(&self, node: &Node) -> Meta {
        let own = NodeId(self.meta.len() as u32);
        let mut hash = mix(0xcbf2_9ce4_8422_2325, op_hash(self, node.op));
        for a in &node.args {
            hash = mix(hash, self.meta[a.index()].hash);
        }
        let min_var = match node.op {
            Op::Var(v) => v,
            _ => node
                .args
                .iter()
                .map(|a| self.meta[a.index()].min_var)
                .filter(|&v| v != NO_VAR)
                .min_by(|&x, &y| self.var_cmp(x, y))
                .unwrap_or(NO_VAR),
        };
        let (lead, coef, degree) = match node.op {
            Op::Const(_) => (own, node.op.value().unwrap_or(1.0), 0.0),
            Op::Named(_) => (own, 1.0, 0.0),
            Op::Mul => {
                let (a, b) = (node.args[0], node.args[1]);
                let ma = self.meta[a.index()];
                let mb = self.meta[b.index()];
                let degree = ma.degree + mb.degree;
                match self.op(a) {
                    Op::Const(_) => (mb.lead, ma.coef, degree),
                    Op::Mul => (ma.lead, ma.coef, degree),
                    _ => (ma.lead, 1.0, degree),
                }
            }
            Op::Pow => {
                let base = self.meta[node.args[0].index()];
                let degree = self.value(node.args[1]).unwrap_or(f64::INFINITY);
                (base.lead, 1.0, degree * base.degree.max(1.0))
            }
            _ => (own, 1.0, 1.0),
        };
        let depth = node.args.iter().map(|a| self.meta[a.index()].depth + 1).max().unwrap_or(0);
        let has_var =
            matches!(node.op, Op::Var(_)) || node.args.iter().any(|a| self.meta[a.index()].has_var);
        let (lead_rank, lead_func) = match lead == own {
            true => (lead_rank(node.op), lead_func(node.op)),
            false => {
                let m = self.meta[lead.index()];
                (m.lead_rank, m.lead_func)
            }
        };
        let number = matches!(node.op, Op::Const(_));
        Meta { hash, lead, coef, degree, min_var, depth, has_var, number, lead_rank, lead_func }
    }

    /// The canonical order of two operands of `+` or `*`: constants first, then by the
    /// kind and name of their lead (variables, then functions, then sums), their first
    /// variable, their degree, their depth, and last their structural hash. Terms with a negative
    /// coefficient come after the others, so sums read `a - b` rather than `-b + a`.
    pub fn canonical_cmp(&self, a: NodeId, b: NodeId) -> Ordering {
        if a == b {
            return Ordering::Equal;
        }
        let (ma, mb) = (&self.meta[a.index()], &self.meta[b.index()]);
        match (ma.number, mb.number) {
            (true, true) => return ma.coef.total_cmp(&mb.coef),
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let negative = |m: &Meta| m.coef < 0.0;
        negative(ma)
            .cmp(&negative(mb))
            .then_with(|| ma.lead_rank.cmp(&mb.lead_rank))
            .then_with(|| self.lead_name_cmp(ma, mb))
            .then_with(|| match (ma.min_var, mb.min_var) {
                (NO_VAR, NO_VAR) => Ordering::Equal,
                (NO_VAR, _) => Ordering::Less,
                (_, NO_VAR) => Ordering::Greater,
                (x, y) => self.var_cmp(x, y),
            })
            .then_with(|| ma.degree.total_cmp(&mb.degree))
            .then_with(|| ma.depth.cmp(&mb.depth))
            .then_with(|| ma.hash.cmp(&mb.hash))
            .then_with(|| a.cmp(&b))
    }

    /// The order of terms in a sum: positive terms first, then by total degree, highest
    /// first (`x^2 + x + 1`, `w*x + b`), then [`Graph::canonical_cmp`].
    pub fn sum_cmp(&self, a: NodeId, b: NodeId) -> Ordering {
        let (ma, mb) = (self.meta[a.index()], self.meta[b.index()]);
        let negative = |m: Meta| m.coef < 0.0;
        negative(ma)
            .cmp(&negative(mb))
            .then_with(|| mb.degree.total_cmp(&ma.degree))
            .then_with(|| self.canonical_cmp(a, b))
    }

    /// The order of factors in a product: constant factors (`pi`, `ln(2)`) lead, as
    /// numbers do (`ln(2)*2^x`), then [`Graph::canonical_cmp`].
    pub fn product_cmp(&self, a: NodeId, b: NodeId) -> Ordering {
        let has_var = |n: NodeId| self.meta[n.index()].has_var;
        has_var(a).cmp(&has_var(b)).then_with(|| self.canonical_cmp(a, b))
    }

    /// Two variables (as `Op::Var` holds them) by [`natural_cmp`] of their names.
    fn var_cmp(&self, x: u32, y: u32) -> Ordering {
        if x == y {
            return Ordering::Equal;
        }
        natural_cmp(self.var_name(x), self.var_name(y))
    }

    /// [`natural_cmp`] of the leads' names; two functions by their rank in name order,
    /// computed once, so that sorting a long product of calls compares no strings.
    fn lead_name_cmp(&self, a: &Meta, b: &Meta) -> Ordering {
        if a.lead == b.lead {
            return Ordering::Equal;
        }
        if a.lead_func != u8::MAX && b.lead_func != u8::MAX {
            return a.lead_func.cmp(&b.lead_func);
        }
        natural_cmp(self.lead_name(a.lead), self.lead_name(b.lead))
    }

    fn lead_name(&self, lead: NodeId) -> &str {
        match self.op(lead) {
            Op::Var(v) => self.var_name(v),
            Op::Named(c) => c.name(),
            Op::Func(f) => f.name(),
            Op::LogSumExp => "logsumexp",
            _ => "",
        }
    }
}

impl Node {
    /// Whether this is the node `op(args)`.
    fn is(&self, op: Op, args: &[NodeId]) -> bool {
        self.op == op && self.args.as_slice() == args
    }

    /// [`node_hash`] of this node.
    fn index_hash(&self) -> u64 {
        node_hash(self.op, &self.args)
    }
}

/// The hash of `op(args)` in the graph's index: of two words for a node of at most two
/// operands other than a number ([`narrow_key`]), else of the operation and operands.
///
/// A narrow node's bucket keeps locality: nodes that differ only in the low bits of their
/// first operand (or, for a variable, of its number) hash to neighbouring buckets, [`RUN`]
/// to a block, so that the nodes an array makes element by element (`x[i]`, `exp(x[i])`,
/// `x[i] - m`) share the table's cache lines instead of each missing its own; the tag bits
/// (the top seven, which a probe compares first) stay a hash of the whole node.
fn node_hash(op: Op, args: &[NodeId]) -> u64 {
    let Some((kind, operands)) = narrow_key(op, args) else {
        let mut h = FxHasher::default();
        op.hash(&mut h);
        args.hash(&mut h);
        return h.finish();
    };
    let whole = hash_words(kind, operands);
    // The field that runs (the first operand's id, or a variable's number) and the block
    // of `RUN` values its low bits place the node in.
    let (kind, operands, run) = match args.is_empty() {
        true => (kind & !RUN_MASK, operands, kind & RUN_MASK),
        false => (kind, operands & !(RUN_MASK << 32), (operands >> 32) & RUN_MASK),
    };
    let block = hash_words(kind, operands).wrapping_add(run);
    (whole & TAG_BITS) | (block & !TAG_BITS)
}

/// How many neighbouring nodes (by first operand) share a block of buckets: 16 buckets are
/// one group of the table's control bytes and one cache line of its 4-byte slots.
const RUN: u64 = 16;
const RUN_MASK: u64 = RUN - 1;
/// The bits of a hash the table compares as a node's tag.
const TAG_BITS: u64 = 0xfe00_0000_0000_0000;

fn hash_words(a: u64, b: u64) -> u64 {
    let mut h = FxHasher::default();
    h.write_u64(a);
    h.write_u64(b);
    h.finish()
}

/// The hash of a variable's name in the graph's table of variables.
fn name_hash(name: &str) -> u64 {
    let mut h = FxHasher::default();
    name.hash(&mut h);
    h.finish()
}

/// The key of `op(args)` for at most two operands and an operation other than a number:
/// the operation's kind and payload in one word, the operands in the other (an absent
/// operand as `u32::MAX`, which no node id reaches).
fn narrow_key(op: Op, args: &[NodeId]) -> Option<(u64, u64)> {
    let (kind, payload) = match op {
        Op::Const(_) => return None,
        Op::Named(c) => (1, c as u32),
        Op::Var(v) => (2, v),
        Op::Add => (3, 0),
        Op::Mul => (4, 0),
        Op::Pow => (5, 0),
        Op::Func(f) => (6, f as u32),
        Op::LogSumExp => (7, 0),
    };
    let operand = |i: usize| args.get(i).map_or(u32::MAX, |a| a.0) as u64;
    (args.len() <= 2).then(|| ((kind << 32) | payload as u64, (operand(0) << 32) | operand(1)))
}

fn op_hash(g: &Graph, op: Op) -> u64 {
    match op {
        Op::Const(n) => mix(1, n.to_f64().to_bits()),
        Op::Named(c) => c.name().bytes().fold(8, |h, b| mix(h, b as u64)),
        Op::Var(v) => g.var_name(v).bytes().fold(2, |h, b| mix(h, b as u64)),
        Op::Add => 3,
        Op::Mul => 4,
        Op::Pow => 5,
        // By name, so that adding a row to the function table never reorders output.
        Op::Func(f) => f.name().bytes().fold(6, |h, b| mix(h, b as u64)),
        Op::LogSumExp => 7,
    }
}

/// The kind of a lead for ordering: numbers and named constants, then variables, then
/// calls, then sums.
fn lead_rank(op: Op) -> u8 {
    match op {
        Op::Const(_) | Op::Named(_) => 0,
        Op::Var(_) => 1,
        Op::Func(_) | Op::LogSumExp => 2,
        _ => 3,
    }
}

/// [`name_rank`] of a call's function, `u8::MAX` for any other operation.
fn lead_func(op: Op) -> u8 {
    const _: () = assert!(Func::ALL.len() < u8::MAX as usize);
    match op {
        Op::Func(f) => name_rank(f) as u8,
        _ => u8::MAX,
    }
}

/// `f`'s place among the functions in [`natural_cmp`] order of their names.
fn name_rank(f: Func) -> usize {
    static RANKS: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    let ranks = RANKS.get_or_init(|| {
        let mut sorted: Vec<Func> = Func::ALL.to_vec();
        sorted.sort_by(|a, b| natural_cmp(a.name(), b.name()));
        let mut ranks = vec![0; Func::ALL.len()];
        for (rank, g) in sorted.into_iter().enumerate() {
            ranks[g as usize] = rank;
        }
        ranks
    });
    ranks[f as usize]
}

/// Names in natural order: digit runs compare as numbers (`x1 < x2 < x10`).
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    while let (Some(&p), Some(&q)) = (x.first(), y.first()) {
        if p.is_ascii_digit() && q.is_ascii_digit() {
            let run = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
            let (n, m) = (run(x), run(y));
            let strip = |s: &[u8]| s.iter().skip_while(|&&c| c == b'0').count();
            let (dx, dy) = (&x[..n], &y[..m]);
            let (sx, sy) = (&dx[n - strip(dx)..], &dy[m - strip(dy)..]);
            let order = sx.len().cmp(&sy.len()).then_with(|| sx.cmp(sy)).then_with(|| n.cmp(&m));
            if order.is_ne() {
                return order;
            }
            (x, y) = (&x[n..], &y[m..]);
        } else {
            if p != q {
                return p.cmp(&q);
            }
            (x, y) = (&x[1..], &y[1..]);
        }
    }
    x.len().cmp(&y.len())
}

/// A fixed 64-bit mixing step (deterministic across runs, unlike std's RandomState).
fn mix(h: u64, x: u64) -> u64 {
    let v = (h ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    v ^ (v >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Variables numbered one after another, and the same call of operands made one after
    /// another, hash to one bucket after another within a block of `RUN`, while their tags
    /// (the bits a probe compares) differ; a node of another block lands elsewhere.
    #[test]
    fn neighbouring_nodes_hash_to_neighbouring_buckets() {
        let exp = Op::Func(Func::Exp);
        let kinds: [&dyn Fn(u32) -> u64; 3] =
            [&|k| node_hash(Op::Var(k), &[]), &|k| node_hash(exp, &[NodeId(k)]), &|k| {
                node_hash(Op::Add, &[NodeId(k), NodeId(7)])
            }];
        for hash in kinds {
            let block: Vec<u64> = (32..48).map(hash).collect();
            for (k, h) in block.iter().enumerate() {
                assert_eq!(h & !TAG_BITS, block[0].wrapping_add(k as u64) & !TAG_BITS);
            }
            let tags: std::collections::HashSet<u64> = block.iter().map(|h| h & TAG_BITS).collect();
            assert!(tags.len() > 8, "tags {tags:?}");
            let next = hash(48) & !TAG_BITS;
            assert!(next.abs_diff(block[15] & !TAG_BITS) > 1 << 20, "the next block is adjacent");
        }
        // The second operand is hashed as a whole: `x + y[j]` over j is no run.
        let (a, b) = (
            node_hash(Op::Add, &[NodeId(7), NodeId(32)]),
            node_hash(Op::Add, &[NodeId(7), NodeId(33)]),
        );
        assert!((a & !TAG_BITS).abs_diff(b & !TAG_BITS) > 1 << 20);
    }

    /// Building a node again gives the node built before, across every growth of the index
    /// and for every kind of key (numbers, variables, one and two operands, many operands).
    #[test]
    fn equal_nodes_are_found_after_the_index_grows() {
        let mut g = Graph::new();
        let mut built = Vec::new();
        for k in 0..5000 {
            let x = g.var(&format!("x{k}"));
            let c = g.number(Number::ratio(k + 1, 3));
            let f = g.constant(k as f64 + 0.25);
            let s = g.func(Func::Sin, &[x]);
            let p = g.mul(c, s);
            let q = g.add(p, f);
            built.push([x, c, f, s, p, q]);
        }
        let xs: Vec<NodeId> = built.iter().map(|b| b[0]).collect();
        let lse = g.logsumexp(&xs);
        let len = g.len();
        for (k, b) in built.iter().enumerate() {
            assert_eq!(g.var(&format!("x{k}")), b[0]);
            assert_eq!(g.number(Number::ratio(k as i64 + 1, 3)), b[1]);
            assert_eq!(g.constant(k as f64 + 0.25), b[2]);
            assert_eq!(g.func(Func::Sin, &[b[0]]), b[3]);
            assert_eq!(g.mul(b[1], b[3]), b[4]);
            assert_eq!(g.add(b[4], b[2]), b[5]);
        }
        assert_eq!(g.logsumexp(&xs), lse);
        assert_eq!(g.find_var("x4999"), Some(built[4999][0]));
        assert_eq!(g.find_var("y"), None);
        assert_eq!(g.len(), len, "no node was built twice");
        let mut reversed = xs.clone();
        reversed.reverse();
        assert_ne!(g.logsumexp(&reversed), lse, "operands are ordered");
        assert_ne!(g.number(Number::ratio(1, 2)), g.number(Number::float(0.5)), "exact and float");
    }
}
