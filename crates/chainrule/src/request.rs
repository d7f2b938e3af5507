//! One request path: the value, derivatives and Hessian of a formula for given variables
//! and order, simplified or not. Every command of the program asks through it, so that what
//! `check` verifies and `eval` evaluates are the very nodes that `diff` prints.

use crate::diff;
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{Graph, NodeId, VarId};
use crate::print::{self, Notation};
use crate::simplify;

/// Printed texts larger than this many bytes are refused ([`ErrorKind::TextTooLarge`]).
pub const MAX_TEXT_BYTES: u64 = 64 << 20;

/// How far a request's results are simplified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simplify {
    /// Not at all: the nodes reverse mode builds.
    Raw,
    /// The derivatives as one group, and the Hessian as another, as they are printed; the
    /// value stays the formula as written (so evaluation errors point into the text).
    Printed,
    /// The value, derivatives and Hessian as one set, in the form evaluation runs
    /// ([`simplify::for_evaluation`]): shared forward work stays shared, for a tape that
    /// computes them all in one pass; never more nodes than reverse mode built.
    Together,
}

/// What to derive: the derivatives of `order` (0 for none) with respect to each of `wrt`,
/// and, with `hessian`, every second partial derivative.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The variables, in output order.
    pub wrt: Vec<VarId>,
    /// The order of the derivatives (1: the gradient, from one reverse sweep).
    pub order: usize,
    /// Also the Hessian with respect to `wrt`.
    pub hessian: bool,
    /// How far to simplify.
    pub simplify: Simplify,
}

impl Request {
    /// The first derivatives with respect to `wrt`, in printed form.
    pub fn new(wrt: Vec<VarId>) -> Request {
        Request { wrt, order: 1, hessian: false, simplify: Simplify::Printed }
    }

    /// The same request for derivatives of `order`.
    pub fn order(mut self, order: usize) -> Request {
        self.order = order;
        self
    }

    /// The same request with the Hessian too.
    pub fn with_hessian(mut self) -> Request {
        self.hessian = true;
        self
    }

    /// The same request simplified as `simplify` says.
    pub fn simplify(mut self, simplify: Simplify) -> Request {
        self.simplify = simplify;
        self
    }
}

/// The nodes a [`Request`] asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    /// The formula's value.
    pub value: NodeId,
    /// `derivatives[i]`: the derivative of the requested order in `wrt[i]`.
    pub derivatives: Vec<NodeId>,
    /// `hessian[i][j]`: `d2/d(wrt[i])d(wrt[j])` (empty unless asked for).
    pub hessian: Vec<Vec<NodeId>>,
    /// The variables, as requested.
    pub wrt: Vec<VarId>,
    /// The order of `derivatives`.
    pub order: usize,
    /// What is differentiated, when it is one element of an array result (`out[2]`): the
    /// labels say `d out[2]/dx`.
    pub of: Option<String>,
}

/// [`simplify::simplify_for_print`] of `roots`, each distinct node once (the Hessian's
/// lower triangle is its upper one).
fn print_each_once(g: &mut Graph, roots: &[NodeId]) -> Result<Vec<NodeId>> {
    let mut unique = roots.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let done = simplify::simplify_for_print(g, &unique)?;
    let map: std::collections::HashMap<NodeId, NodeId> = unique.into_iter().zip(done).collect();
    Ok(roots.iter().map(|r| map[r]).collect())
}

/// Derives what `request` asks of `root` in `g`.
pub fn derive(g: &mut Graph, root: NodeId, request: &Request) -> Result<Derived> {
    raw(g, root, request)?.simplified(g, request.simplify)
}

/// The derivatives `request` asks for, as reverse mode builds them.
fn raw(g: &mut Graph, root: NodeId, request: &Request) -> Result<Derived> {
    let vars: Vec<NodeId> = request.wrt.iter().map(|&v| g.var_node(v)).collect();
    let gradient = if (request.order == 1 || request.hessian) && !vars.is_empty() {
        diff::grad(g, root, &vars)?
    } else {
        Vec::new()
    };
    let derivatives = match request.order {
        0 => Vec::new(),
        1 => gradient.clone(),
        n => vars.iter().map(|&v| diff::nth_derivative(g, root, v, n)).collect::<Result<_>>()?,
    };
    let hessian = if request.hessian { diff::hessian(g, &gradient, &vars)? } else { Vec::new() };
    Ok(Derived {
        value: root,
        derivatives,
        hessian,
        wrt: request.wrt.clone(),
        order: request.order,
        of: None,
    })
}

impl Derived {
    /// The same results simplified as `how` says (from raw ones).
    pub fn simplified(self, g: &mut Graph, how: Simplify) -> Result<Derived> {
        let n = self.wrt.len();
        let flat: Vec<NodeId> = self.hessian.concat();
        let (value, derivatives, flat) = match how {
            Simplify::Raw => (self.value, self.derivatives, flat),
            Simplify::Printed => (
                self.value,
                simplify::simplify_for_print(g, &self.derivatives)?,
                print_each_once(g, &flat)?,
            ),
            Simplify::Together => {
                let all = simplify::for_evaluation(g, &self.roots())?;
                return Ok(self.with_roots(&all));
            }
        };
        let hessian = flat.chunks(n.max(1)).map(<[NodeId]>::to_vec).collect();
        Ok(Derived { value, derivatives, hessian, ..self })
    }

    /// The results of several outputs (an array result's elements) simplified together as
    /// one set ([`Simplify::Together`]), so that the work they share stays shared.
    pub fn together(all: Vec<Derived>, g: &mut Graph) -> Result<Vec<Derived>> {
        let roots: Vec<NodeId> = all.iter().flat_map(Derived::roots).collect();
        let mut simplified = &simplify::for_evaluation(g, &roots)?[..];
        Ok(all
            .into_iter()
            .map(|d| {
                let (mine, rest) =
                    simplified.split_at(1 + d.derivatives.len() + d.hessian.concat().len());
                simplified = rest;
                d.with_roots(mine)
            })
            .collect())
    }

    /// The same results with [`Derived::roots`] replaced by `roots`, in that order.
    fn with_roots(self, roots: &[NodeId]) -> Derived {
        let k = 1 + self.derivatives.len();
        let n = self.wrt.len().max(1);
        let hessian = roots[k..].chunks(n).map(<[NodeId]>::to_vec).collect();
        Derived { value: roots[0], derivatives: roots[1..k].to_vec(), hessian, ..self }
    }

    /// Every node: the value, the derivatives, then the Hessian row by row.
    pub fn roots(&self) -> Vec<NodeId> {
        let mut roots = vec![self.value];
        roots.extend(&self.derivatives);
        roots.extend(self.hessian.concat());
        roots
    }

    /// The labels of the derivatives: `d/dx`, `d2/dx2`, ...
    pub fn derivative_labels(&self, g: &Graph) -> Vec<String> {
        let of = self.of.as_deref();
        self.wrt
            .iter()
            .map(|&v| print::derivative_label_of(of, &g.variable(v).name, self.order))
            .collect()
    }

    /// The labels of the Hessian entries, row by row: `d2/dxdx`, `d2/dxdy`, ...
    pub fn hessian_labels(&self, g: &Graph) -> Vec<String> {
        let name = |v: VarId| g.variable(v).name.as_str();
        let rows = if self.hessian.is_empty() { &[][..] } else { &self.wrt[..] };
        rows.iter()
            .flat_map(|&a| self.wrt.iter().map(move |&b| format!("d2/d{}d{}", name(a), name(b))))
            .collect()
    }

    /// Refuses derivatives and Hessian entries whose text as one expression would exceed
    /// [`MAX_TEXT_BYTES`].
    pub fn check_text_size(&self, g: &Graph) -> Result<()> {
        let derivatives = self.derivative_labels(g).into_iter().zip(self.derivatives.clone());
        for (label, d) in derivatives.chain(self.hessian_entries(g, Notation::Text)) {
            let size = print::text_size(g, d);
            if size > MAX_TEXT_BYTES {
                let megabytes = size / (1 << 20);
                return Err(Error::new(ErrorKind::TextTooLarge { label, megabytes }));
            }
        }
        Ok(())
    }

    /// The derivatives, each with its label: `d/dx` (LaTeX `\frac{\partial f}{\partial x}`),
    /// `d2/dx2` for the second order.
    pub fn derivative_entries(&self, g: &Graph, notation: Notation) -> Vec<(String, NodeId)> {
        let of = self.of.as_deref();
        let label = |v: VarId| {
            let name = &g.variable(v).name;
            match notation {
                Notation::Latex => latex_label(of, name, self.order),
                Notation::Text => print::derivative_label_of(of, name, self.order),
            }
        };
        self.wrt.iter().zip(&self.derivatives).map(|(&v, &d)| (label(v), d)).collect()
    }

    /// The derivatives one line each, `d/dx = ...` (in LaTeX, `\frac{\partial f}{\partial
    /// x} = ...`), as the command line prints them.
    pub fn lines(&self, g: &Graph, notation: Notation) -> Result<String> {
        self.check_text_size(g)?;
        Ok(entry_lines(g, self.derivative_entries(g, notation), notation))
    }
}

/// `label = expression` lines.
fn entry_lines(g: &Graph, entries: Vec<(String, NodeId)>, notation: Notation) -> String {
    entries
        .into_iter()
        .map(|(label, id)| format!("{label} = {}\n", print::render(g, id, notation)))
        .collect()
}

impl Derived {
    /// The Hessian's upper triangle (`i <= j`), each entry with its label: `d2/dx2`,
    /// `d2/dxdy` (LaTeX `\\frac{\\partial^{2} f}{\\partial x \\partial y}`).
    pub fn hessian_entries(&self, g: &Graph, notation: Notation) -> Vec<(String, NodeId)> {
        let name = |v: VarId| g.variable(v).name.to_string();
        let mut entries = Vec::new();
        for (i, row) in self.hessian.iter().enumerate() {
            for (j, &h) in row.iter().enumerate().skip(i) {
                let (a, b) = (name(self.wrt[i]), name(self.wrt[j]));
                let label = match (notation, i == j) {
                    (Notation::Text, true) => print::derivative_label(&a, 2),
                    (Notation::Text, false) => format!("d2/d{a}d{b}"),
                    (Notation::Latex, true) => latex_label(None, &a, 2),
                    (Notation::Latex, false) => format!(
                        "\\frac{{\\partial^{{2}} f}}{{\\partial {} \\partial {}}}",
                        print::latex_name(&a),
                        print::latex_name(&b)
                    ),
                };
                entries.push((label, h));
            }
        }
        entries
    }

    /// The Hessian's upper triangle as `label = expression` lines (refusing text past
    /// [`MAX_TEXT_BYTES`], as [`Derived::lines`] does).
    pub fn hessian_lines(&self, g: &Graph, notation: Notation) -> Result<String> {
        self.check_text_size(g)?;
        Ok(entry_lines(g, self.hessian_entries(g, notation), notation))
    }
}

fn latex_label(of: Option<&str>, v: &str, order: usize) -> String {
    let name = print::latex_name(v);
    let f = of.map_or("f".to_string(), print::latex_name);
    if order == 1 {
        format!("\\frac{{\\partial {f}}}{{\\partial {name}}}")
    } else {
        format!("\\frac{{\\partial^{{{order}}} {f}}}{{\\partial {name}^{{{order}}}}}")
    }
}
