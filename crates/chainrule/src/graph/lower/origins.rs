//! Where each node was first written in the text, for pointing at a subexpression.

use crate::error::Span;
use crate::graph::NodeId;

/// Where each node was first written: a table by node index, so that noting a node (done
/// for every expression lowered) is a look at one small entry, not a hash-map probe. The
/// table holds 4 bytes a node (the place's number, from 1; 0 for none), so that the many
/// nodes noted again (a shared constant, a variable) are mostly found in cache.
#[derive(Clone, Debug, Default)]
pub struct Origins {
    /// By node index: 1 + the index in `spans` of its place, or 0.
    at: Vec<u32>,
    spans: Vec<Span>,
}

impl Origins {
    /// Notes that `id` was written at `span`, unless an earlier place is noted.
    pub fn note(&mut self, id: NodeId, span: Span) {
        let i = id.index();
        if i >= self.at.len() {
            self.at.resize(i + 1, 0);
        }
        if self.at[i] == 0 {
            // (a place noted for many nodes in a row, an array's declaration, is kept once)
            if self.spans.last() != Some(&span) {
                self.spans.push(span);
            }
            self.at[i] = self.spans.len() as u32;
        }
    }

    /// Where `id` was first written, if it was noted.
    pub fn get(&self, id: NodeId) -> Option<Span> {
        match self.at.get(id.index()) {
            Some(&k) if k > 0 => Some(self.spans[k as usize - 1]),
            _ => None,
        }
    }
}
