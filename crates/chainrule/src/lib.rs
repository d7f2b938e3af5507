#![doc = include_str!("../../../README.md")]
#![warn(missing_docs)]

pub mod check;
pub mod diff;
pub mod error;
pub mod eval;
pub mod graph;
pub mod operators;
pub mod print;
pub mod simplify;
pub mod syntax;
pub mod train;

pub use error::{Error, ErrorKind, Result, Span};
pub use graph::{Graph, NodeId};
pub use syntax::ParseOptions;

use rustc_hash::FxHashMap as HashMap;

/// A parsed formula in its graph, with the names the text uses: the entry point for most
/// uses of the library.
///
/// ```
/// let mut f = chainrule::Formula::parse("x^3*sin(x)").unwrap();
/// let d = f.derivative("x", 1).unwrap();
/// assert_eq!(f.text(d), "x^3*cos(x) + 3*x^2*sin(x)");
/// ```
#[derive(Clone, Debug)]
pub struct Formula {
    /// The graph holding the formula and everything derived from it.
    pub graph: Graph,
    /// The formula's result.
    pub root: NodeId,
    /// Free variables in order of first appearance in the text.
    pub vars: Vec<String>,
    /// The names the program assigns (not variables).
    pub assigned: Vec<String>,
    /// The source text.
    pub source: String,
    origins: HashMap<NodeId, Span>,
}

impl Formula {
    /// Parses and lowers `source` with the default limits.
    pub fn parse(source: &str) -> Result<Formula> {
        Formula::parse_with(source, ParseOptions::default())
    }

    /// Parses and lowers `source` with `options`.
    pub fn parse_with(source: &str, options: ParseOptions) -> Result<Formula> {
        let program = syntax::parse_with(source, options)?;
        let mut graph = Graph::new();
        let lowered = graph::lower::lower(&mut graph, &program)?;
        Ok(Formula {
            graph,
            root: lowered.root,
            vars: lowered.vars,
            assigned: lowered.assigned,
            source: source.to_string(),
            origins: lowered.origins,
        })
    }

    /// The variable node for `name` (made if the formula does not use it).
    pub fn var(&mut self, name: &str) -> NodeId {
        self.graph.var(name)
    }

    /// The variable nodes of [`Formula::vars`], in that order.
    pub fn var_nodes(&mut self) -> Vec<NodeId> {
        let names = self.vars.clone();
        names.iter().map(|v| self.graph.var(v)).collect()
    }

    /// The simplified formula.
    pub fn simplified(&mut self) -> Result<NodeId> {
        simplify::simplify_one(&mut self.graph, self.root)
    }

    /// The simplified `order`-th derivative with respect to `wrt`. Higher orders
    /// differentiate the unsimplified derivative, which keeps the sharing of reverse mode
    /// (it grows about 2x per order; simplifying between orders loses sharing and grows
    /// faster), and simplify once at the end.
    pub fn derivative(&mut self, wrt: &str, order: usize) -> Result<NodeId> {
        let v = self.var(wrt);
        let d = diff::nth_derivative(&mut self.graph, self.root, v, order)?;
        simplify::simplify_one(&mut self.graph, d)
    }

    /// The gradient with respect to `wrt`, from one reverse sweep, simplified together.
    pub fn gradient(&mut self, wrt: &[String]) -> Result<Vec<NodeId>> {
        let vars: Vec<NodeId> = wrt.iter().map(|w| self.graph.var(w)).collect();
        let g = diff::grad(&mut self.graph, self.root, &vars)?;
        simplify::simplify(&mut self.graph, &g)
    }

    /// A tape whose outputs are the value and then the gradient with respect to `wrt`,
    /// and whose inputs are [`Formula::vars`] in order.
    pub fn gradient_tape(&mut self, wrt: &[String]) -> Result<eval::Tape> {
        let vars: Vec<NodeId> = wrt.iter().map(|w| self.graph.var(w)).collect();
        let mut roots = vec![self.root];
        roots.extend(diff::grad(&mut self.graph, self.root, &vars)?);
        // Simplified together, the value and the gradient share one forward pass.
        let roots = simplify::simplify(&mut self.graph, &roots)?;
        eval::compile(&self.graph, &roots, &self.vars)
    }

    /// A picture of the formula with its `order`-th derivatives with respect to `wrt`
    /// (none when `wrt` is empty), simplified together so that they share nodes.
    pub fn graph_view(&mut self, wrt: &[String], order: usize) -> Result<print::graph::GraphView> {
        let mut roots = vec![self.root];
        let vars: Vec<NodeId> = wrt.iter().map(|w| self.graph.var(w)).collect();
        if order == 1 {
            roots.extend(diff::grad(&mut self.graph, self.root, &vars)?);
        } else {
            for &v in &vars {
                roots.push(diff::nth_derivative(&mut self.graph, self.root, v, order)?);
            }
        }
        let roots = simplify::simplify(&mut self.graph, &roots)?;
        let mut outputs =
            vec![print::graph::Output { label: "f".into(), node: roots[0], primal: true }];
        for (w, &node) in wrt.iter().zip(&roots[1..]) {
            outputs.push(print::graph::Output {
                label: print::derivative_label(w, order),
                node,
                primal: false,
            });
        }
        Ok(print::graph::GraphView::new(&self.graph, outputs))
    }

    /// The canonical text of `id`.
    pub fn text(&self, id: NodeId) -> String {
        print::text(&self.graph, id)
    }

    /// Where in the source `id` was written, if it was.
    pub fn origin(&self, id: NodeId) -> Option<Span> {
        self.origins.get(&id).copied()
    }
}
