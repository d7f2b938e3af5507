//! Reading claims: one formula for one variable (`--claim`), or a claim file of
//! `d/dw = FORMULA` lines, with assignments before them as `grad --cse` prints them.
//!
//! A claim file is parsed as one program in which each `d/dw` label is replaced by a
//! placeholder name of the same length, so that every span, and so every caret of an
//! error, points into the file as written. A claim may use the formula's own names
//! (`h1`, `out`); the file's assignments may define names again, hiding the formula's.

use crate::error::{closest, Error, ErrorKind, Result, Span};
use crate::graph::lower::{describe, lower_scoped, Lowered, Origins};
use crate::graph::{Graph, NodeId, Op};
use crate::syntax::ast::{Expr, ExprKind};
use crate::syntax::DEFAULT_MAX_ELEMENTS;
use crate::syntax::{self, ParseOptions};
use crate::Formula;
use rustc_hash::FxHashMap as HashMap;

/// One claimed derivative, lowered into the formula's graph.
#[derive(Clone, Debug)]
pub struct Claim {
    /// The variable it is the derivative in.
    pub wrt: String,
    /// The claimed derivative.
    pub node: NodeId,
    /// Its text in the claim source (for an element of an array claim, the array's, or
    /// the element's where it is written out).
    pub span: Span,
    /// The claim as written, or for an element of an array claim not written out, its
    /// canonical text.
    pub text: String,
}

/// Claims with the text they were read from.
#[derive(Clone, Debug)]
pub struct Claims {
    /// The claim text (the `--claim` formula, or the claim file).
    pub source: String,
    /// The claims in order.
    pub claims: Vec<Claim>,
    /// Where each node of the claims was written in `source`.
    pub(crate) origins: Origins,
    /// The names the claim text assigns (`delta = out - y`), with their nodes.
    pub(crate) definitions: Vec<(String, NodeId)>,
}

impl Claims {
    /// `d/d(wrt) = text`: one claim (a program whose result is the claimed derivative).
    /// When `wrt` is an array variable (`W`), the claim is an array of its shape, one claim
    /// per element (`d/dW[1,2]`). Errors point into `text`.
    pub fn one(formula: &mut Formula, wrt: &str, text: &str) -> Result<Claims> {
        let program = syntax::parse_with(text, ParseOptions::default())?;
        let lowered = lower_in(formula, &program)?;
        check_free(formula, &lowered)?;
        let span = program.statements.last().map_or(Span::new(0, text.len()), |s| s.expr.span);
        let elements = match formula.array(wrt) {
            Some(array) => array.shape.clone(),
            None => Vec::new(),
        };
        if lowered.result.shape != elements {
            let message = format!(
                "the claim is {} but `{wrt}` is {}: a derivative has the shape of its variable",
                describe(&lowered.result.shape),
                describe(&elements)
            );
            let error = Error::at(ErrorKind::Shape(message), span);
            return Err(match elements.is_empty() {
                true => error,
                false => error.with_hint(format!(
                    "claim all of d/d{wrt} as an array, or one element: --wrt '{}'",
                    formula.expand_names(&[wrt])[0]
                )),
            });
        }
        let last = program.statements.last().map(|s| &s.expr);
        let written = last.map(|e| literal_items(e, elements.len())).unwrap_or_default();
        let names = formula.expand_names(&[wrt]);
        let claims = names
            .into_iter()
            .zip(&lowered.result.elems)
            .enumerate()
            .map(|(k, (name, &node))| {
                let (span, text) = match (elements.is_empty(), written.get(k)) {
                    (true, _) => (span, text[span.start..span.end].to_string()),
                    (false, Some(&at)) => (at, text[at.start..at.end].to_string()),
                    (false, None) => (span, formula.text(node)),
                };
                Claim { wrt: name, node, span, text }
            })
            .collect();
        Ok(Claims {
            source: text.to_string(),
            claims,
            origins: lowered.origins,
            definitions: lowered.definitions,
        })
    }

    /// The claims of a claim file: `d/dw = FORMULA` lines, assignments, `#` comments.
    /// Errors point into `text`.
    pub fn file(formula: &mut Formula, text: &str) -> Result<Claims> {
        let labels = labels(formula, text)?;
        if labels.is_empty() {
            return Err(Error::new(ErrorKind::Usage(
                "the claim file has no `d/dw = ...` line".into(),
            ))
            .with_hint("write one claim a line: `d/dx = 2*x`"));
        }
        let masked = mask(text, &labels, formula);
        let program = syntax::parse_with(&masked.text, ParseOptions::default())?;
        let lowered = lower_in(formula, &program)?;
        check_free(formula, &lowered)?;
        let mut claims = Vec::new();
        for statement in &program.statements {
            let Some(label) = statement.target.as_ref().and_then(|t| masked.names.get(&t.0)) else {
                continue;
            };
            let name = &statement.target.as_ref().expect("a target").0;
            let span = statement.expr.span;
            let Some(&(_, node)) = lowered.definitions.iter().find(|(n, _)| n == name) else {
                let message = format!("the claim for d/d{label} is an array, not a number");
                return Err(Error::at(ErrorKind::Shape(message), span)
                    .with_hint("claim each element on its own line: `d/dW[1,2] = ...`"));
            };
            claims.push(Claim {
                wrt: label.clone(),
                node,
                span,
                text: masked.text[span.start..span.end].to_string(),
            });
        }
        if let Some(last) = program.statements.last().filter(|s| s.target.is_none()) {
            return Err(Error::at(ErrorKind::StrayExpression, last.expr.span)
                .with_hint("a claim file holds `d/dw = ...` lines and the assignments they use"));
        }
        let definitions = lowered
            .definitions
            .into_iter()
            .filter(|(n, _)| !masked.names.contains_key(n))
            .collect();
        Ok(Claims { source: text.to_string(), claims, origins: lowered.origins, definitions })
    }
}

impl Claims {
    /// Where `node` is written in `claim`, inside the text of the nodes of `path` (from the top): a
    /// subexpression written twice (one node) is placed where the path leads.
    pub(crate) fn place(&self, claim: &Claim, path: &[NodeId], node: NodeId) -> Option<Span> {
        let mut region = claim.span;
        for n in path.iter().chain([&node]) {
            let Some(first) = self.origins.get(*n) else { continue };
            let text = &self.source[first.start..first.end];
            let inside = &self.source[region.start..region.end];
            let at = find_whole(inside, text)?;
            if find_whole(&inside[at + text.len()..], text).is_some() {
                // Written twice here: which one is meant is not known.
                return None;
            }
            region = Span::new(region.start + at, region.start + at + text.len());
        }
        self.origins.get(node).map(|_| region)
    }
}

impl Claims {
    /// Where `name` is written in `claim`, if it is written there once.
    pub(crate) fn place_name(&self, claim: &Claim, name: &str) -> Option<Span> {
        let text = &self.source[claim.span.start..claim.span.end];
        let at = find_whole(text, name)?;
        let again = find_whole(&text[at + name.len()..], name).is_some();
        let start = claim.span.start + at;
        (!again).then(|| Span::new(start, start + name.len()))
    }

    /// The name the claim text gave to exactly these `parts` (the terms or factors of `op`
    /// of one assigned node), if it gave one.
    pub(crate) fn name_of(&self, g: &Graph, parts: &[NodeId], op: Op) -> Option<String> {
        let mut wanted = parts.to_vec();
        wanted.sort_unstable();
        self.definitions.iter().rev().find_map(|(name, node)| {
            let mut own =
                if parts.len() == 1 { vec![*node] } else { super::locate::parts(g, *node, op) };
            own.sort_unstable();
            (own == wanted).then(|| name.clone())
        })
    }
}

/// Where each element of an array literal is written (`[a, b]`, `[[a, b], [c, d]]`), row
/// by row, when `e` is one of `dims` dimensions; empty otherwise.
fn literal_items(e: &Expr, dims: usize) -> Vec<Span> {
    let ExprKind::List(items) = &e.kind else { return Vec::new() };
    match dims {
        1 => items.iter().map(|item| item.span).collect(),
        2 => {
            let rows: Vec<Vec<Span>> = items.iter().map(|row| literal_items(row, 1)).collect();
            match rows.iter().all(|r| !r.is_empty()) {
                true => rows.concat(),
                false => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// The first place `needle` stands in `hay` not as a piece of a longer name or number.
fn find_whole(hay: &str, needle: &str) -> Option<usize> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle).map(|i| i + from) {
        let before = hay[..i].chars().next_back().is_some_and(word);
        let after = hay[i + needle.len()..].chars().next().is_some_and(word);
        if !before && !after {
            return Some(i);
        }
        from = i + needle.len().max(1);
    }
    None
}

/// The claim program lowered into the formula's graph, the formula's names in scope.
fn lower_in(formula: &mut Formula, program: &syntax::ast::Program) -> Result<Lowered> {
    let scope = formula.scope();
    lower_scoped(formula.graph_mut(), program, &scope, DEFAULT_MAX_ELEMENTS)
}

/// Every free variable of the claims must be one of the formula's: a name the formula does
/// not have is a slip, not a variable the derivative could depend on.
fn check_free(formula: &Formula, lowered: &Lowered) -> Result<()> {
    for &v in &lowered.vars {
        let name = &formula.graph().variable(v).name;
        if formula.position(name).is_some() {
            continue;
        }
        let node = formula.graph().find_var(name);
        let span = node.and_then(|n| lowered.origins.get(n));
        let mut known = formula.var_names();
        known.extend(formula.assigned().iter().map(String::as_str));
        let message =
            format!("`{name}` is neither a variable of the formula nor a name it defines");
        let error = Error { kind: ErrorKind::Usage(message), span, hint: None };
        return Err(match closest(name, known.iter().copied()) {
            Some(best) => error.with_hint(format!("did you mean `{best}`?")),
            None => error.with_hint(format!("the formula's names: {}", known.join(", "))),
        });
    }
    Ok(())
}

/// A `d/dw` label: its span (of `d/dw`) and the variable.
struct Label {
    span: Span,
    wrt: String,
}

/// The labels of the claim lines (a line whose first word is `d/d...`).
fn labels(formula: &Formula, text: &str) -> Result<Vec<Label>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset + (line.len() - line.trim_start().len());
        offset += line.len();
        let rest = &text[start..offset];
        if !rest.starts_with('d')
            || !rest[1..].trim_start_matches(|c: char| c.is_ascii_digit()).starts_with("/d")
        {
            continue;
        }
        if !rest.starts_with("d/d") {
            let end =
                start + rest.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(rest.len());
            return Err(Error::at(
                ErrorKind::Usage("verify checks first derivatives: `d/dw = ...`".into()),
                Span::new(start, end),
            ));
        }
        let mut name_len = rest[3..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len() - 3);
        // An array element: `d/dW[1, 2]`.
        if name_len > 0 && rest[3 + name_len..].starts_with('[') {
            if let Some(close) = rest[3 + name_len..].find([']', '\n']) {
                if rest[3 + name_len + close..].starts_with(']') {
                    name_len += close + 1;
                }
            }
        }
        let span = Span::new(start, start + 3 + name_len);
        let wrt: String =
            text[start + 3..span.end].chars().filter(|c| !c.is_whitespace()).collect();
        let after = text[span.end..].trim_start_matches([' ', '\t']);
        if wrt.is_empty() || !after.starts_with('=') {
            return Err(Error::at(
                ErrorKind::Syntax("a claim line reads `d/dw = FORMULA`".into()),
                span,
            ));
        }
        check_wrt(formula, &wrt, span)?;
        out.push(Label { span, wrt });
    }
    Ok(out)
}

/// The claim's variable must be one of the formula's.
fn check_wrt(formula: &Formula, wrt: &str, span: Span) -> Result<()> {
    if formula.position(wrt).is_some() {
        return Ok(());
    }
    if let Some(array) = formula.array(wrt) {
        let message = format!(
            "`{wrt}` is {}: a claim line is the derivative in one element",
            describe(&array.shape)
        );
        let first = formula.expand_names(&[wrt]).swap_remove(0);
        return Err(Error::at(ErrorKind::Usage(message), span).with_hint(format!(
            "write `d/d{first} = ...`, or claim the whole array with --wrt {wrt} --claim"
        )));
    }
    let names = formula.names();
    let error = Error::at(
        ErrorKind::Usage(format!(
            "`{wrt}` is not a variable of the formula; its variables are: {}",
            names.join(", ")
        )),
        span,
    );
    Err(match closest(wrt, names.iter().map(String::as_str)) {
        Some(best) => error.with_hint(format!("did you mean `{best}`?")),
        None => error,
    })
}

/// The claim file with each label replaced by a placeholder name of the same length.
struct Masked {
    text: String,
    /// Placeholder name -> the claim's variable.
    names: HashMap<String, String>,
}

fn mask(text: &str, labels: &[Label], formula: &Formula) -> Masked {
    let taken = |name: &str| text.contains(name) || formula.source().contains(name);
    // `d/dw` becomes `dXdw` for the first letter X that makes a name used nowhere else.
    let mut bytes = text.as_bytes().to_vec();
    let mut names = HashMap::default();
    for label in labels {
        // `W[1, 2]` is spelled `W_1__2_`: a name of the same length.
        let written: String = text[label.span.start + 3..label.span.end]
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
            .collect();
        let placeholder = ('A'..='Z')
            .chain('a'..='z')
            .map(|x| format!("d{x}d{written}"))
            .find(|p| !taken(p) && !names.contains_key(p))
            .unwrap_or_else(|| format!("d_d{written}"));
        bytes[label.span.start..label.span.end].copy_from_slice(placeholder.as_bytes());
        names.insert(placeholder, label.wrt.clone());
    }
    let text = String::from_utf8(bytes).expect("ASCII replaced by ASCII");
    Masked { text, names }
}
