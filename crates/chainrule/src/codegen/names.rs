//! Identifiers of generated code: each formula name (variable, assigned name, temporary)
//! keeps its spelling unless the target reserves it (`fn`, `int`, `lambda`, the generated
//! function's own name, its arguments) or another name took it first; then it gets a `_`
//! appended until it is free. One [`Namer`] per generated file, so no two names meet.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Gives identifiers, avoiding reserved words and each other.
pub(crate) struct Namer {
    reserved: Box<dyn Fn(&str) -> bool>,
    taken: HashSet<String>,
    variables: HashMap<String, String>,
    locals: HashMap<String, String>,
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
        }
    }

    /// The identifier of variable `name` (the same one at every call).
    pub(crate) fn variable(&mut self, name: &str) -> String {
        if let Some(id) = self.variables.get(name) {
            return id.clone();
        }
        let id = self.fresh(name);
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

    /// The variables whose identifier differs from their name: `(name, identifier)`.
    pub(crate) fn renamed(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .variables
            .iter()
            .chain(&self.locals)
            .filter(|(n, id)| n != id)
            .map(|(n, id)| (n.clone(), id.clone()))
            .collect();
        out.sort();
        out
    }
}
