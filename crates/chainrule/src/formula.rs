//! [`Formula`]: a parsed formula in its graph, with its variables; the entry point for most
//! uses of the library.

use crate::diff::point::Backprop;
use crate::error::{Result, Span};
use crate::eval::{self, Tape};
use crate::graph::lower::{self, ArrayVar, Origins, Value};
use crate::graph::{Graph, NodeId, VarId, Variable};
use crate::print::{self, Notation};
use crate::request::{self, Derived, Request, Simplify};
use crate::syntax::ast::Program;
use crate::syntax::{self, ParseOptions};
use crate::{diff, simplify};

/// A parsed formula in its graph, with the names the text uses.
///
/// ```
/// let mut f = chainrule::Formula::parse("x^3*sin(x)").unwrap();
/// let d = f.derivative("x", 1).unwrap();
/// assert_eq!(f.text(d), "x^2*(x*cos(x) + 3*sin(x))");
/// assert_eq!(f.derivative_lines(&["x"], 2).unwrap(), "d2/dx2 = 6*x*(x*cos(x) + sin(x)) - x^3*sin(x)\n");
/// ```
#[derive(Clone, Debug)]
pub struct Formula {
    graph: Graph,
    root: NodeId,
    /// The result's shape (`[]` for a scalar) and its elements, row by row.
    shape: Vec<usize>,
    outputs: Vec<NodeId>,
    result_name: Option<String>,
    arrays: Vec<ArrayVar>,
    /// Free variables in order of first appearance in the text.
    vars: Vec<VarId>,
    /// For each variable id of the graph when parsed, its position in `vars`.
    positions: Vec<Option<usize>>,
    assigned: Vec<String>,
    definitions: Vec<(String, NodeId)>,
    array_definitions: Vec<(String, Value)>,
    source: String,
    origins: Origins,
}

impl Formula {
    /// Parses and lowers `source` with the default limits.
    pub fn parse(source: &str) -> Result<Formula> {
        Formula::parse_with(source, ParseOptions::default())
    }

    /// Parses and lowers `source` with `options`.
    pub fn parse_with(source: &str, options: ParseOptions) -> Result<Formula> {
        let program = syntax::parse_with(source, options)?;
        Formula::lower(source, &program, options)
    }

    /// Lowers `program`, parsed from `source` (the second half of [`Formula::parse_with`],
    /// for timing the two apart).
    pub fn lower(source: &str, program: &Program, options: ParseOptions) -> Result<Formula> {
        let mut graph = Graph::new();
        let lowered = lower::lower_scoped(&mut graph, program, &[], options.max_elements)?;
        let mut positions = vec![None; graph.variables().len()];
        for (i, v) in lowered.vars.iter().enumerate() {
            positions[v.index()] = Some(i);
        }
        Ok(Formula {
            graph,
            root: lowered.root,
            shape: lowered.result.shape,
            outputs: lowered.result.elems.into_vec(),
            result_name: lowered.result_name,
            arrays: lowered.arrays,
            vars: lowered.vars,
            positions,
            assigned: lowered.assigned,
            definitions: lowered.definitions,
            array_definitions: lowered.array_definitions,
            source: source.to_string(),
            origins: lowered.origins,
        })
    }

    /// The graph holding the formula and everything derived from it.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The graph, to build in (nodes are only ever added) or to set its node limit.
    pub fn graph_mut(&mut self) -> &mut Graph {
        &mut self.graph
    }

    /// The formula's result (when it is an array, its first element: see
    /// [`Formula::outputs`]).
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// The shape of the result: `[]` for a scalar, `[n]` or `[m, n]` for an array.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Whether the result is a scalar.
    pub fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }

    /// The result's elements, row by row (one, the root, for a scalar).
    pub fn outputs(&self) -> &[NodeId] {
        &self.outputs
    }

    /// The name of element `k` of the result as `d out[2]/dx` prints it: the assigned
    /// name of the last statement (or `f`) with its subscripts.
    pub fn output_name(&self, k: usize) -> String {
        let name = self.result_name.as_deref().unwrap_or("f");
        lower::element_name(name, &self.shape, k).into()
    }

    /// The declared array variables, in program order.
    pub fn arrays(&self) -> &[ArrayVar] {
        &self.arrays
    }

    /// The declared shape of the variable `name`: an array's, or `[]` for a scalar.
    pub fn shape_of(&self, name: &str) -> &[usize] {
        self.array(name).map_or(&[], |a| a.shape.as_slice())
    }

    /// The declared array variable `name`.
    pub fn array(&self, name: &str) -> Option<&ArrayVar> {
        self.arrays.iter().find(|a| a.name == name)
    }

    /// `names` with each array variable replaced by its elements' names, row by row
    /// (`W` is `W[1,1], W[1,2], ...`); other names as they are.
    pub fn expand_names(&self, names: &[impl AsRef<str>]) -> Vec<String> {
        let mut out = Vec::new();
        for name in names {
            match self.array(name.as_ref()) {
                Some(a) => {
                    out.extend(a.elements.iter().map(|&v| self.graph.variable(v).name.to_string()))
                }
                None => out.push(name.as_ref().to_string()),
            }
        }
        out
    }

    /// The free variables, in order of first appearance in the text.
    pub fn vars(&self) -> impl ExactSizeIterator<Item = &Variable> + Clone + '_ {
        self.vars.iter().map(|&v| self.graph.variable(v))
    }

    /// Their ids, in the same order: the inputs of the tapes [`Formula::compile`] makes.
    pub fn var_ids(&self) -> &[VarId] {
        &self.vars
    }

    /// Their names, in the same order.
    pub fn var_names(&self) -> Vec<&str> {
        self.vars().map(|v| v.name.as_str()).collect()
    }

    /// The variables as the user names them, in order of first appearance: each declared
    /// array once by its name (`W`), scalars by theirs.
    pub fn names(&self) -> Vec<String> {
        // The array of each element variable (by variable index), and each array's first.
        let mut array_of = vec![None; self.graph.variables().len()];
        for (k, a) in self.arrays.iter().enumerate() {
            for v in &a.elements {
                array_of[v.index()] = Some(k);
            }
        }
        let mut names: Vec<String> = Vec::new();
        for v in self.vars() {
            match array_of.get(v.id.index()).copied().flatten().map(|k| &self.arrays[k]) {
                Some(a) if a.elements[0] != v.id => {}
                Some(a) => names.push(a.name.clone()),
                None => names.push(v.name.to_string()),
            }
        }
        names
    }

    /// The position of `name` among [`Formula::vars`], if it is one of them.
    pub fn position(&self, name: &str) -> Option<usize> {
        let id = self.graph.var_id(name)?;
        self.positions.get(id.index()).copied().flatten()
    }

    /// Each name the program assigns with the node of its value (`h = ...`), in order:
    /// `--cse` prints these nodes under the user's names.
    pub fn definitions(&self) -> &[(String, NodeId)] {
        &self.definitions
    }

    /// Every name the program gives a value, with it, as another program lowered in the
    /// formula's scope sees them: the array variables (`W`), then the assigned names, scalars
    /// (`out`) and arrays (`h`).
    pub fn scope(&mut self) -> Vec<(String, Value)> {
        let mut scope = Vec::new();
        for a in &self.arrays {
            let nodes = a.elements.iter().map(|&v| self.graph.var_node(v)).collect();
            scope.push((a.name.clone(), Value::array(a.shape.clone(), nodes)));
        }
        scope.extend(self.definitions.iter().map(|(n, id)| (n.clone(), Value::scalar(*id))));
        scope.extend(self.array_definitions.iter().cloned());
        scope
    }

    /// The names the program assigns (not variables), in program order.
    pub fn assigned(&self) -> &[String] {
        &self.assigned
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variable node for `name` (made if the formula does not use it).
    pub fn var(&mut self, name: &str) -> NodeId {
        self.graph.var(name)
    }

    /// The ids of `names`, an array's name standing for its elements ([`Formula::expand_names`]);
    /// a name the formula does not use is entered in the graph's table.
    pub fn ids(&mut self, names: &[impl AsRef<str>]) -> Vec<VarId> {
        let names = self.expand_names(names);
        names.iter().map(|n| self.graph.intern_var(n)).collect()
    }

    /// The variable nodes of [`Formula::vars`], in that order.
    pub fn var_nodes(&mut self) -> Vec<NodeId> {
        let ids = self.vars.clone();
        ids.into_iter().map(|v| self.graph.var_node(v)).collect()
    }

    /// The simplified formula.
    pub fn simplified(&mut self) -> Result<NodeId> {
        simplify::simplify_one(&mut self.graph, self.root)
    }

    /// What `request` asks for: the one way every command derives (see [`Request`]).
    pub fn derive(&mut self, request: &Request) -> Result<Derived> {
        request::derive(&mut self.graph, self.root, request)
    }

    /// What `request` asks of element `k` of the result (of an array result: one row of
    /// its Jacobian, labelled `d out[2]/dx`).
    pub fn derive_output(&mut self, k: usize, request: &Request) -> Result<Derived> {
        let mut derived = request::derive(&mut self.graph, self.outputs[k], request)?;
        if !self.is_scalar() {
            derived.of = Some(self.output_name(k));
        }
        Ok(derived)
    }

    /// The Jacobian with respect to `wrt`, simplified as printed: `j[k][i]` is the
    /// derivative of result element `k` (row by row) in `wrt[i]`. For a scalar result, the
    /// one row is the gradient.
    pub fn jacobian(&mut self, wrt: &[impl AsRef<str>]) -> Result<Vec<Vec<NodeId>>> {
        let request = Request::new(self.ids(wrt));
        (0..self.outputs.len()).map(|k| Ok(self.derive_output(k, &request)?.derivatives)).collect()
    }

    /// The simplified result's text: the scalar's, or a nested list of its elements'
    /// (`[[a, b], [c, d]]`), which parses back in a program with the formula's declarations.
    pub fn result_text(&mut self) -> Result<String> {
        let simplified = match self.is_scalar() {
            true => vec![self.simplified()?],
            false => simplify::simplify(&mut self.graph, &self.outputs.clone())?,
        };
        let texts: Vec<String> = simplified.iter().map(|&id| self.text(id)).collect();
        Ok(nested_text(&self.shape, &texts))
    }

    /// The simplified `order`-th derivative with respect to `wrt`. Higher orders
    /// differentiate the unsimplified derivative, which keeps the sharing of reverse mode
    /// (it grows about 2x per order; simplifying between orders loses sharing and grows
    /// faster), and simplify once at the end.
    pub fn derivative(&mut self, wrt: &str, order: usize) -> Result<NodeId> {
        let v = self.var(wrt);
        let d = diff::nth_derivative(&mut self.graph, self.root, v, order)?;
        Ok(simplify::simplify_for_print(&mut self.graph, &[d])?[0])
    }

    /// The gradient with respect to `wrt`, from one reverse sweep, simplified together: the
    /// nodes `chainrule grad` prints.
    pub fn gradient(&mut self, wrt: &[impl AsRef<str>]) -> Result<Vec<NodeId>> {
        let wrt = self.ids(wrt);
        Ok(self.derive(&Request::new(wrt))?.derivatives)
    }

    /// The Hessian with respect to `wrt`, simplified together: `h[i][j]` is
    /// `d2/d(wrt[i])d(wrt[j])`.
    pub fn hessian(&mut self, wrt: &[impl AsRef<str>]) -> Result<Vec<Vec<NodeId>>> {
        let wrt = self.ids(wrt);
        Ok(self.derive(&Request::new(wrt).order(0).with_hessian())?.hessian)
    }

    /// The derivatives of `order` with respect to `wrt`, one line each, exactly as
    /// `chainrule diff` prints them: `d/dw = ...`, `d2/dx2 = ...`.
    pub fn derivative_lines(&mut self, wrt: &[impl AsRef<str>], order: usize) -> Result<String> {
        let wrt = self.ids(wrt);
        let derived = self.derive(&Request::new(wrt).order(order))?;
        derived.lines(&self.graph, Notation::Text)
    }

    /// A tape of `roots` whose inputs are [`Formula::vars`] in order.
    pub fn compile(&self, roots: &[NodeId]) -> Result<Tape> {
        eval::compile(&self.graph, roots, &self.vars)
    }

    /// A tape whose outputs are the value and then the gradient with respect to `wrt`,
    /// simplified together so that they share one forward pass, and whose inputs are
    /// [`Formula::vars`] in order.
    pub fn gradient_tape(&mut self, wrt: &[impl AsRef<str>]) -> Result<Tape> {
        let wrt = self.ids(wrt);
        let derived = self.derive(&Request::new(wrt).simplify(Simplify::Together))?;
        self.compile(&derived.roots())
    }

    /// A picture of the formula with its `order`-th derivatives with respect to `wrt`
    /// (none when `wrt` is empty), simplified together so that they share nodes. An array
    /// result shows each element (`f[1]`, `out[2]`) and each row of its Jacobian
    /// (`d out[2]/dx`).
    pub fn graph_view(
        &mut self,
        wrt: &[impl AsRef<str>],
        order: usize,
    ) -> Result<print::graph::GraphView> {
        let wrt = self.ids(wrt);
        let request = Request::new(wrt).order(order).simplify(Simplify::Raw);
        let raw: Vec<Derived> = (0..self.outputs.len())
            .map(|k| self.derive_output(k, &request))
            .collect::<Result<_>>()?;
        let mut roots: Vec<NodeId> = raw.iter().map(|d| d.value).collect();
        roots.extend(raw.iter().flat_map(|d| d.derivatives.iter().copied()));
        let simplified = simplify::simplify(&mut self.graph, &roots)?;
        let output = |label: String, node, primal| print::graph::Output { label, node, primal };
        let mut outputs: Vec<print::graph::Output> = (0..self.outputs.len())
            .map(|k| match self.is_scalar() {
                true => output("f".into(), simplified[k], true),
                false => output(self.output_name(k), simplified[k], true),
            })
            .collect();
        let labels = raw.iter().flat_map(|d| d.derivative_labels(&self.graph));
        for (label, &node) in labels.zip(&simplified[self.outputs.len()..]) {
            outputs.push(output(label, node, false));
        }
        Ok(print::graph::GraphView::new(&self.graph, outputs))
    }

    /// Values and adjoints at a point (`values` for [`Formula::vars`] in order): the forward
    /// pass over `root` and `also`, the reverse sweep from `root` (see [`Backprop`]).
    pub fn backprop(&mut self, root: NodeId, also: &[NodeId], values: &[f64]) -> Result<Backprop> {
        let inputs = self.vars.clone();
        Backprop::run(&mut self.graph, root, also, &inputs, values)
    }

    /// The canonical text of `id`.
    pub fn text(&self, id: NodeId) -> String {
        print::text(&self.graph, id)
    }

    /// The LaTeX of `id`.
    pub fn latex(&self, id: NodeId) -> String {
        print::latex(&self.graph, id)
    }

    /// Where in the source `id` was written, if it was.
    pub fn origin(&self, id: NodeId) -> Option<Span> {
        self.origins.get(id)
    }
}

/// `items` (row by row) as a nested list of `shape`: `a`, `[a, b]`, `[[a, b], [c, d]]`.
pub fn nested_text(shape: &[usize], items: &[String]) -> String {
    match shape {
        [] => items[0].clone(),
        [_] => format!("[{}]", items.join(", ")),
        [_, cols] => {
            let rows: Vec<String> =
                items.chunks(*cols).map(|row| format!("[{}]", row.join(", "))).collect();
            format!("[{}]", rows.join(", "))
        }
        _ => unreachable!("arrays have at most two dimensions"),
    }
}
