//! Code generation: the value, gradient and (optionally) Hessian of a formula as the source
//! of one function in Rust, C, Python with NumPy, or SQL, computed in one pass with every
//! shared subexpression computed once.
//!
//! ```
//! use chainrule::codegen::{generate, Lang, Options};
//! let mut f = chainrule::Formula::parse("h = sigmoid(w*x + b)\n(h - y)^2").unwrap();
//! let rust = generate(&mut f, &Options::new(Lang::Rust).name("loss").wrt(&["w", "b"])).unwrap();
//! assert!(rust.contains("pub fn loss(input: &[f64], grad: &mut [f64]) -> f64"));
//! ```
//!
//! The pipeline: [`Formula::derive`] with [`Simplify::Together`] (the nodes the tape
//! evaluates), then the shared emitter (`emit.rs`) turns them into locals and inline
//! expressions through a language's `Syntax`, then the language's module lays out the file
//! (header comment, signature, helpers). Per-function spellings are the `code` templates of
//! the operator table; the stable forms (sigmoid, softplus, logsumexp, ...) are small
//! helpers copied from the evaluator's kernels, so generated code gives the evaluator's
//! numbers.
//!
//! Arrays are unrolled before the graph, so every argument is a scalar: an array variable
//! is its elements, row by row (`W[1,1], W[1,2], ..., W[2,1], ...`), each an identifier
//! `W_1_2` (in SQL, the column `"W[1,2]"`, as a CSV header names it, and its derivative
//! `d_W_1_2`). The result must be a scalar.

mod c;
mod emit;
mod names;
mod python;
mod rust;
mod sql;

use crate::error::{Error, ErrorKind, Result};
use crate::graph::VarId;
use crate::request::{Derived, Request, Simplify};
use crate::Formula;
use emit::{Binding, Program};
use names::Namer;

pub use crate::eval::Reduce;

/// A target language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Rust: `pub fn NAME(input: &[f64], grad: &mut [f64]) -> f64`, no dependencies.
    Rust,
    /// C99 with `math.h`: `double NAME(const double *input, double *grad)`.
    C,
    /// Python with NumPy, vectorised over rows: `def NAME(x, y, ...)`.
    Python,
    /// SQL: a `SELECT` over a table whose columns are the data variables.
    Sql,
}

impl Lang {
    /// The name on the command line (`rust`, `c`, `python`, `sql`).
    pub fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::C => "c",
            Lang::Python => "python",
            Lang::Sql => "sql",
        }
    }
}

/// An SQL dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// DuckDB (the default).
    DuckDb,
    /// PostgreSQL.
    Postgres,
    /// Spark SQL.
    Spark,
}

impl Dialect {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Postgres => "postgres",
            Dialect::Spark => "spark",
        }
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// The language.
    pub lang: Lang,
    /// The function's name (SQL: used in the header only).
    pub name: String,
    /// The variables of the gradient, in order (default: every free variable not in `at`).
    pub wrt: Option<Vec<String>>,
    /// Also the Hessian (n x n, row-major).
    pub hessian: bool,
    /// Variables fixed to numbers, written as literals (SQL: the parameters).
    pub at: Vec<(String, f64)>,
    /// SQL dialect.
    pub dialect: Dialect,
    /// SQL: one row per table row, or one row of means or sums.
    pub reduce: Reduce,
    /// SQL: the table whose columns are the free variables not in `at`.
    pub table: String,
}

impl Options {
    /// The defaults for `lang`: function `f`, gradient in every variable, no Hessian.
    pub fn new(lang: Lang) -> Options {
        Options {
            lang,
            name: "f".into(),
            wrt: None,
            hessian: false,
            at: Vec::new(),
            dialect: Dialect::DuckDb,
            reduce: Reduce::None,
            table: "data".into(),
        }
    }

    /// The same options with function name `name`.
    pub fn name(mut self, name: &str) -> Options {
        self.name = name.into();
        self
    }

    /// The same options with the gradient in `wrt`.
    pub fn wrt(mut self, wrt: &[&str]) -> Options {
        self.wrt = Some(wrt.iter().map(|s| s.to_string()).collect());
        self
    }

    /// The same options with the Hessian.
    pub fn hessian(mut self) -> Options {
        self.hessian = true;
        self
    }

    /// The same options with `name` fixed to `value`.
    pub fn at(mut self, name: &str, value: f64) -> Options {
        self.at.push((name.into(), value));
        self
    }

    /// The command line that generates the same code (for the header comment).
    fn command(&self) -> String {
        let mut s = format!("chainrule codegen --lang {}", self.lang.name());
        if let Some(wrt) = &self.wrt {
            s.push_str(&format!(" --wrt {}", wrt.join(",")));
        }
        if self.hessian {
            s.push_str(" --hessian");
        }
        if self.name != "f" {
            s.push_str(&format!(" --name {}", self.name));
        }
        if !self.at.is_empty() {
            let at: Vec<String> = self.at.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
            s.push_str(&format!(" --at {}", at.join(",")));
        }
        if self.lang == Lang::Sql {
            if self.dialect != Dialect::DuckDb {
                s.push_str(&format!(" --dialect {}", self.dialect.name()));
            }
            match self.reduce {
                Reduce::Mean => s.push_str(" --reduce mean"),
                Reduce::Sum => s.push_str(" --reduce sum"),
                Reduce::None => {}
            }
            if self.table != "data" {
                s.push_str(&format!(" --table {}", self.table));
            }
        }
        s
    }
}

/// What every language module gets: the formula's text and names, the program, the
/// argument and output orders.
pub(crate) struct Unit<'a> {
    pub options: &'a Options,
    /// The formula as written.
    pub source: &'a str,
    /// The input variables' names in the formula and their identifiers, in input order.
    pub inputs: Vec<(String, String)>,
    /// The gradient's variables, in output order.
    pub wrt: Vec<String>,
    /// The program.
    pub program: Program,
    /// Names renamed for the language: (formula name, identifier).
    pub renamed: Vec<(String, String)>,
    /// The declared array variables with their shapes, in program order.
    pub arrays: Vec<(String, Vec<usize>)>,
}

/// The source of one function computing what `options` asks of `formula`.
pub fn generate(formula: &mut Formula, options: &Options) -> Result<String> {
    let target = language(options);
    if !is_identifier(&options.name) || target.is_reserved(&options.name) {
        let message = format!(
            "`{}` cannot name a function in {}: choose another --name",
            options.name,
            options.lang.name()
        );
        return Err(Error::new(ErrorKind::Usage(message)));
    }
    if !formula.is_scalar() {
        let message = format!(
            "codegen writes a function of one value and its gradient, but this formula's \
             result is {}",
            crate::graph::lower::describe(formula.shape())
        );
        let hint = "reduce it (`sum(...)`, a loss), or generate one element (`out[1]`)";
        return Err(Error::new(ErrorKind::Usage(message)).with_hint(hint));
    }
    target.check(formula)?;
    let (bindings, inputs) = bind(formula, &options.at)?;
    let wrt: Vec<String> = match &options.wrt {
        Some(wrt) => formula.expand_names(wrt),
        None => inputs.iter().map(|&v| formula.graph().variable(v).name.to_string()).collect(),
    };
    for name in wrt.iter() {
        variable_position(formula, name, "--wrt")?;
    }
    let ids = formula.ids(&wrt);
    let mut request = Request::new(ids).simplify(Simplify::Together);
    if options.hessian {
        request = request.with_hessian();
    }
    let derived: Derived = formula.derive(&request)?;
    let mut namer = target.namer(&options.name);
    let g = formula.graph();
    let input_names: Vec<(String, String)> = inputs
        .iter()
        .map(|&v| {
            let name = g.variable(v).name.to_string();
            let id = namer.variable(&name);
            (name, id)
        })
        .collect();
    let roots = derived.roots();
    let program =
        emit::emit(g, &roots, formula.definitions(), &bindings, &mut namer, target.as_ref());
    let unit = Unit {
        options,
        source: formula.source(),
        inputs: input_names,
        wrt,
        renamed: namer.renamed(),
        program,
        arrays: formula.arrays().iter().map(|a| (a.name.clone(), a.shape.clone())).collect(),
    };
    target.write(&unit)
}

/// What each variable of the graph is (read from the inputs, or fixed by `at`), and the
/// inputs in order of first appearance.
fn bind(formula: &Formula, at: &[(String, f64)]) -> Result<(Vec<Option<Binding>>, Vec<VarId>)> {
    for (name, _) in at {
        variable_position(formula, name, "--at")?;
    }
    let mut bindings = vec![None; formula.graph().variables().len()];
    let mut inputs = Vec::new();
    for &v in formula.var_ids() {
        let name = &formula.graph().variable(v).name;
        bindings[v.index()] = Some(match at.iter().rev().find(|(n, _)| n == name) {
            Some(&(_, x)) => Binding::Fixed(x),
            None => {
                inputs.push(v);
                Binding::Input(inputs.len() - 1)
            }
        });
    }
    Ok((bindings, inputs))
}

fn variable_position(formula: &Formula, name: &str, option: &str) -> Result<usize> {
    formula.position(name).ok_or_else(|| {
        let vars = formula.var_names().join(", ");
        Error::new(ErrorKind::Usage(format!(
            "`{name}` in {option} is not a variable of the formula (its variables: {vars})"
        )))
    })
}

fn is_identifier(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A language: its spelling (for the emitter) and its file layout.
pub(crate) trait Language: emit::Syntax {
    /// Refuses formulas the language cannot express.
    fn check(&self, _formula: &Formula) -> Result<()> {
        Ok(())
    }
    /// A namer that avoids the language's reserved words and the file's own names.
    fn namer(&self, function: &str) -> Namer;
    /// The file.
    fn write(&self, unit: &Unit) -> Result<String>;
}

fn language(options: &Options) -> Box<dyn Language> {
    match options.lang {
        Lang::Rust => Box::new(rust::Rust),
        Lang::C => Box::new(c::C),
        Lang::Python => Box::new(python::Python),
        Lang::Sql => Box::new(sql::Sql::new(options.dialect)),
    }
}

/// The header lines shared by every language (without the comment marker): how the file
/// was generated and the formula as written.
pub(crate) fn header(unit: &Unit) -> Vec<String> {
    let mut lines = vec![
        format!("Generated by chainrule {}: do not edit.", env!("CARGO_PKG_VERSION")),
        format!("    {}", unit.options.command()),
        "Formula:".to_string(),
    ];
    lines.extend(unit.source.trim().lines().map(|l| format!("    {}", l.trim_end())));
    for (name, value) in &unit.options.at {
        lines.push(format!("Fixed: {name} = {value:?}"));
    }
    if let Some(line) = elements_line(unit) {
        lines.push(line);
    }
    if !unit.renamed.is_empty() {
        let pairs: Vec<String> =
            unit.renamed.iter().map(|(n, id)| format!("{n} is {id}")).collect();
        lines.push(format!("Renamed (reserved words here): {}", pairs.join(", ")));
    }
    lines
}

/// How the array variables' elements are spelled, when there are any: their order and,
/// outside SQL, their identifiers.
fn elements_line(unit: &Unit) -> Option<String> {
    let (first, shape) = unit.arrays.first()?;
    let (at, under) = if shape.len() == 1 { ("[i]", "_i") } else { ("[i,j]", "_i_j") };
    let shapes: Vec<String> = unit
        .arrays
        .iter()
        .map(|(name, shape)| format!("{name}: {}", crate::graph::lower::shape_text(shape)))
        .collect();
    let spelling = match unit.options.lang {
        Lang::Sql => {
            format!("{first}{at} is the column \"{first}{at}\", its derivative d_{first}{under}")
        }
        _ => format!("{first}{at} is {first}{under}"),
    };
    Some(format!("Arrays ({}) are flattened row by row: {spelling}", shapes.join(", ")))
}

/// The header of the slice calling convention (Rust and C), after [`header`]: the orders
/// of `input`, `grad` and `hess`, as `//` comments.
pub(crate) fn slice_header(unit: &Unit) -> String {
    let n = unit.wrt.len();
    let mut out: String = header(unit).into_iter().map(|line| format!("// {line}\n")).collect();
    let inputs = list(unit.inputs.iter().map(|(name, _)| name));
    let grad = list_of(unit.wrt.iter().map(|v| (group(v), format!("d/d{v}"))));
    out.push_str(&format!(
        "// input: {inputs} (the free variables, in order of first appearance)\n"
    ));
    out.push_str(&format!("// grad:  {grad}\n"));
    if unit.options.hessian {
        out.push_str(&format!(
            "// hess:  {n} x {n}, row-major: hess[i*{n} + j] = d2/d(grad i)d(grad j)\n"
        ));
    }
    out.push_str("// Returns the value.\n");
    out
}

/// The rows of a language's helper table that `wanted` names or that those call (`needs`:
/// `(helper, helper it calls)`), in table order.
pub(crate) fn select_helpers(
    wanted: &std::collections::BTreeSet<String>,
    table: &[(&'static str, &'static str)],
    needs: &[(&str, &str)],
) -> Vec<(&'static str, &'static str)> {
    let mut wanted = wanted.clone();
    for (helper, needed) in needs {
        if wanted.contains(*helper) {
            wanted.insert(needed.to_string());
        }
    }
    table.iter().filter(|(name, _)| wanted.contains(*name)).copied().collect()
}

/// `[a, b, c]` of variables' names; the elements of an array in a row shortened to
/// `W[1,1], ..., W[4,2]`.
pub(crate) fn list(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    list_of(names.into_iter().map(|n| (group(n.as_ref()), n.as_ref().to_string())))
}

/// The array an element name belongs to (`W` of `W[1,2]`).
pub(crate) fn group(name: &str) -> Option<String> {
    name.split_once('[').map(|(base, _)| base.to_string())
}

/// `[a, b, c]` of `items` (group, text): a run of four or more items of one array is
/// shortened to its first, `...` and its last.
pub(crate) fn list_of(items: impl IntoIterator<Item = (Option<String>, String)>) -> String {
    let items: Vec<(Option<String>, String)> = items.into_iter().collect();
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let mut end = i + 1;
        while items[i].0.is_some() && end < items.len() && items[end].0 == items[i].0 {
            end += 1;
        }
        if end - i >= 4 {
            out.extend([items[i].1.as_str(), "...", items[end - 1].1.as_str()]);
        } else {
            out.extend(items[i..end].iter().map(|(_, t)| t.as_str()));
        }
        i = end;
    }
    format!("[{}]", out.join(", "))
}
