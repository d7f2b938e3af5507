//! Where each node was first written in the text, for pointing at a subexpression.

use crate::error::Span;
use crate::graph::NodeId;
use rustc_hash::FxHashMap as HashMap;

/// Where each node was first written: a table by node index, so that noting a node (done
/// for every expression lowered) is a store, not a hash-map probe.
#[derive(Debug, Default)]
pub struct Origins {
    spans: Vec<Option<Span>>,
}

impl Origins {
    /// Notes that `id` was written at `span`, unless an earlier place is noted.
    pub fn note(&mut self, id: NodeId, span: Span) {
        let i = id.index();
        if i >= self.spans.len() {
            self.spans.resize(i + 1, None);
        }
        self.spans[i].get_or_insert(span);
    }

    /// The noted nodes with their places, as a map.
    pub fn into_map(self) -> HashMap<NodeId, Span> {
        let noted = self.spans.iter().flatten().count();
        let mut map = HashMap::with_capacity_and_hasher(noted, Default::default());
        let spans = self.spans.into_iter().enumerate();
        map.extend(spans.filter_map(|(i, s)| Some((NodeId::from_index(i), s?))));
        map
    }
}
