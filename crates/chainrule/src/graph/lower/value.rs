//! What an expression lowers to: a scalar node, or an array of them. Arrays are a notion of
//! the front end only; their elements are ordinary scalar nodes of the graph.

use crate::error::{Error, ErrorKind, Span};
use crate::graph::NodeId;
use std::sync::Arc;

/// The elements of a [`Value`], row by row: a scalar's one node is kept inline, so lowering
/// a scalar formula allocates nothing per node; an array's are shared, so a name read, an
/// argument bound or a call memoized costs no copy, however large the array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elements {
    /// One node, inline.
    One(NodeId),
    /// Any number, shared.
    Shared(Arc<[NodeId]>),
}

impl Elements {
    /// `elems` as elements (inline when there is one).
    pub fn from_vec(elems: Vec<NodeId>) -> Elements {
        match elems.as_slice() {
            [one] => Elements::One(*one),
            _ => Elements::Shared(elems.into()),
        }
    }

    /// The elements as a vector.
    pub fn into_vec(self) -> Vec<NodeId> {
        self.to_vec()
    }

    /// Where the shared elements are (none for one inline node): with the shape, what
    /// names an array for the memo of calls, while the memo keeps it alive.
    pub fn shared_address(&self) -> Option<usize> {
        match self {
            Elements::One(_) => None,
            Elements::Shared(all) => Some(all.as_ptr() as usize),
        }
    }
}

impl std::ops::Deref for Elements {
    type Target = [NodeId];

    fn deref(&self) -> &[NodeId] {
        match self {
            Elements::One(one) => std::slice::from_ref(one),
            Elements::Shared(all) => all,
        }
    }
}

impl FromIterator<NodeId> for Elements {
    fn from_iter<I: IntoIterator<Item = NodeId>>(iter: I) -> Elements {
        let mut iter = iter.into_iter();
        match (iter.next(), iter.next()) {
            (None, _) => Elements::Shared(Arc::new([])),
            (Some(one), None) => Elements::One(one),
            (Some(a), Some(b)) => {
                let mut all = vec![a, b];
                all.extend(iter);
                Elements::Shared(all.into())
            }
        }
    }
}

impl<'a> IntoIterator for &'a Elements {
    type Item = &'a NodeId;
    type IntoIter = std::slice::Iter<'a, NodeId>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A lowered value: its shape (`[]` a scalar, `[n]` a vector, `[m, n]` a matrix) and its
/// elements in row-major order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    /// The dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The elements, row by row.
    pub elems: Elements,
}

impl Value {
    /// A scalar.
    pub fn scalar(id: NodeId) -> Value {
        Value { shape: Vec::new(), elems: Elements::One(id) }
    }

    /// A value of `shape` with `elems` (row-major).
    pub fn array(shape: Vec<usize>, elems: Vec<NodeId>) -> Value {
        Value::of(shape, Elements::from_vec(elems))
    }

    /// A value of `shape` (`[]` for a scalar) with `elems` (row-major).
    pub fn of(shape: Vec<usize>, elems: Elements) -> Value {
        debug_assert_eq!(shape.iter().product::<usize>(), elems.len());
        Value { shape, elems }
    }

    /// The node of a scalar.
    pub fn as_scalar(&self) -> Option<NodeId> {
        self.shape.is_empty().then(|| self.elems[0])
    }

    /// Whether it is a scalar.
    pub fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }

    /// Row `i` (0-based) of a matrix.
    pub fn row(&self, i: usize) -> &[NodeId] {
        let cols = self.shape[1];
        &self.elems[i * cols..(i + 1) * cols]
    }

    /// Its shape in words ("a vector of 3").
    pub fn describe(&self) -> String {
        describe(&self.shape)
    }
}

/// A shape in words: "a scalar", "a vector of 3", "a 4x2 matrix".
pub fn describe(shape: &[usize]) -> String {
    match shape {
        [] => "a scalar".into(),
        [n] => format!("a vector of {n}"),
        dims => {
            let dims: Vec<String> = dims.iter().map(usize::to_string).collect();
            format!("a {} matrix", dims.join("x"))
        }
    }
}

/// A shape in both spellings, for the errors that compare two: `[4, 2] (a 4x2 matrix)`,
/// `a scalar`.
pub fn named_shape(shape: &[usize]) -> String {
    match shape {
        [] => "a scalar".into(),
        _ => format!("{} ({})", shape_text(shape), describe(shape)),
    }
}

/// A shape as the declaration writes it: `[4, 2]`.
pub fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// A shape error at `span`.
pub fn shape_error(message: String, span: Span) -> Error {
    Error::at(ErrorKind::Shape(message), span)
}

/// The shape that `values` broadcast to (every array the same shape; scalars fit any), or
/// the two shapes that clash.
pub fn common_shape<'a>(
    values: impl IntoIterator<Item = &'a Value>,
) -> Result<Vec<usize>, (Vec<usize>, Vec<usize>)> {
    let mut common: Option<&Vec<usize>> = None;
    for v in values {
        if v.is_scalar() {
            continue;
        }
        match common {
            Some(c) if *c != v.shape => return Err((c.clone(), v.shape.clone())),
            _ => common = Some(&v.shape),
        }
    }
    Ok(common.cloned().unwrap_or_default())
}

/// Element `k` of `v` broadcast to a larger shape (a scalar is every element).
pub fn element(v: &Value, k: usize) -> NodeId {
    if v.is_scalar() {
        v.elems[0]
    } else {
        v.elems[k]
    }
}
