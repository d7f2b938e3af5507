//! Identifiers of generated code: each formula name (variable, assigned name, temporary)
//! keeps its spelling unless the target reserves it (`fn`, `int`, `lambda`, the generated
//! function's own name, its arguments) or another name took it first; then it gets a `_`
//! appended until it is free. One [`Namer`] per generated file, so no two names meet.
//! An array element `W[1,2]` is no identifier in any target: its identifier is `W_1_2`
//! ([`element_identifier`]), except in SQL, where it is a quoted column name.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Gives identifiers, avoiding reserved words and each other.
pub(crate) struct Namer {
    reserved: Box<dyn Fn(&str) -> bool>,
    taken: HashSet<String>,
    variables: HashMap<String, String>,
    locals: HashMap<String, String>,
    /// Whether array elements are spelled as identifiers (`W_1_2`) rather than kept.
    elements: bool,
}

/// The identifier of an array element: `W[1,2]` is `W_1_2`, `x[3]` is `x_3`; any other
/// name as it is.
pub(crate) fn element_identifier(name: &str) -> String {
    if !name.contains('[') {
        return name.to_string();
    }
    name.chars()
        .filter(|c| !matches!(c, ']' | ' '))
        .map(|c| if c == '[' || c == ',' { '_' } else { c })
        .collect()
}

impl Namer {
    /// A namer for a target that reserves what `reserved` says, and `fixed` (the names the
    /// generated file uses itself).
    pub(crate) fn new(reserved: impl Fn(&str) -> bool + 'static, fixed: &[&str]) -> Namer {
        Namer {
            reserved: Box::new(reserved),
            taken: fixed.iter().map(|s| s.to_string()).collect(),
            variables: HashMap::default(),
            locals: HashMap::default(),
            elements: true,
        }
    }

    /// The same namer keeping array elements' names (`W[1,2]`) for the target to quote.
    pub(crate) fn keeping_elements(mut self) -> Namer {
        self.elements = false;
        self
    }

    /// The identifier of variable `name` (the same one at every call).
    pub(crate) fn variable(&mut self, name: &str) -> String {
        if let Some(id) = self.variables.get(name) {
            return id.clone();
        }
        let id = match self.elements {
            true => self.fresh(&element_identifier(name)),
            false => self.fresh(name),
        };
        self.variables.insert(name.to_string(), id.clone());
        id
    }

    /// The identifier of a new local first called `name`.
    pub(crate) fn local(&mut self, name: &str) -> String {
        let id = self.fresh(name);
        self.locals.insert(name.to_string(), id.clone());
        id
    }

    fn fresh(&mut self, name: &str) -> String {
        let mut id = name.to_string();
        while (self.reserved)(&id) || self.taken.contains(&id) {
            id.push('_');
        }
        self.taken.insert(id.clone());
        id
    }

    /// The variables whose identifier differs from their name (an array element's from
    /// its usual identifier `W_1_2`): `(name, identifier)`.
    pub(crate) fn renamed(&self) -> Vec<(String, String)> {
        let usual = |n: &str| match self.elements {
            true => element_identifier(n),
            false => n.to_string(),
        };
        let mut out: Vec<(String, String)> = self
            .variables
            .iter()
            .chain(&self.locals)
            .filter(|(n, id)| usual(n) != **id)
            .map(|(n, id)| (n.clone(), id.clone()))
            .collect();
        out.sort();
        out
    }
}
