//! `chainrule eval`: the value, gradient and Hessian at a point or over the rows of a CSV file.

use crate::cli::input::{
    check_wrt, failure, flatten, name_list, read_formula, read_params, read_point, scalar_result,
    usage,
};
use crate::cli::{json, Failure, InputArgs};
use chainrule::error::{Error, ErrorKind};
use chainrule::eval::{self, data::Table, Column, Reduce};
use chainrule::{graph::walk, print, Derived, Formula, NodeId, Request, Simplify};
use clap::{Args, ValueEnum};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The point: `name=value` pairs, comma-separated (with --data: values for the variables
    /// that have no column).
    #[arg(long, value_name = "x=1.5,y=2", allow_hyphen_values = true)]
    at: Option<String>,
    /// Values from a JSON file (as `train --save` writes it); --at overrides them.
    #[arg(long, value_name = "params.json")]
    params: Option<PathBuf>,
    /// Evaluate over the rows of a CSV file whose header names the variables.
    #[arg(long, value_name = "rows.csv")]
    data: Option<PathBuf>,
    /// With --data: the mean or sum over rows, or every row.
    #[arg(long, value_enum, default_value_t = ReduceArg::Mean)]
    reduce: ReduceArg,
    /// The variables of --grad and --hessian, comma-separated (default: every variable, or
    /// with --data every variable that is not a column: the parameters).
    #[arg(long, value_delimiter = ',', value_name = "x[,y...]")]
    wrt: Vec<String>,
    /// Also print the gradient.
    #[arg(long)]
    grad: bool,
    /// Also print the Hessian.
    #[arg(long)]
    hessian: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ReduceArg {
    Mean,
    Sum,
    None,
}

/// The evaluation program: what was asked for as graph roots (the value, then the gradient,
/// then the Hessian rows, with respect to the variables `wrt`) and the tape computing them.
/// `eval` runs it and `bench` times it: both build it with [`program`].
pub(crate) struct Program {
    pub(crate) roots: Vec<NodeId>,
    labels: Vec<String>,
    /// The variables, one per array element.
    wrt: Vec<String>,
    /// The same as the user names them (an array by its name).
    pub(crate) names: Vec<String>,
    /// The number of result elements (the first roots).
    pub(crate) outputs: usize,
    grad: bool,
    hessian: bool,
    /// Inputs [`Formula::vars`] in order, outputs `roots`.
    pub(crate) tape: eval::Tape,
    /// How long each stage of building it took.
    pub(crate) phases: Phases,
}

/// The time of each stage of [`program`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Phases {
    pub(crate) diff: Duration,
    pub(crate) simplify: Duration,
    pub(crate) compile: Duration,
}

pub(crate) fn run(args: &EvalArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let mut formula = read_formula(&args.input)?;
    let at = read_point(&formula, args.at.as_deref().unwrap_or(""))?;
    let table = match &args.data {
        Some(path) => Some(eval::data::read_csv(path).map_err(|e| failure(&formula, e))?),
        None => None,
    };
    let mut point = match &args.params {
        Some(path) => flatten(&formula, &read_params(path)?)?,
        None => Vec::new(),
    };
    if let Some(table) = &table {
        check_not_columns(table, &point, args.params.as_deref(), &at)?;
    }
    point.extend(at);
    let names = wrt(&formula, &args.wrt, table.as_ref())?;
    let built = program(&mut formula, names, args.grad, args.hessian)?;
    match &table {
        None => at_point(&formula, &built, &point, args.json, out),
        Some(table) => over_rows(&formula, &built, &point, table, args, out),
    }
}

/// The variables to differentiate with respect to, as the user names them: --wrt, or every
/// variable that is not a data column (an array when none of its elements is).
pub(crate) fn wrt(
    formula: &Formula,
    given: &[String],
    table: Option<&Table>,
) -> Result<Vec<String>, Failure> {
    if !given.is_empty() {
        check_wrt(formula, given)?;
        return Ok(name_list(given));
    }
    let is_column = |v: &String| table.is_some_and(|t| t.column(v).is_some());
    let names = formula.names().into_iter();
    Ok(names.filter(|n| !formula.expand_names(&[n]).iter().any(is_column)).collect())
}

/// A variable takes its values from one place: a value from --at or --params for a data
/// column would be ignored, so it is an error.
fn check_not_columns(
    table: &Table,
    params: &[(String, f64)],
    params_file: Option<&std::path::Path>,
    at: &[(String, f64)],
) -> Result<(), Failure> {
    let file =
        params_file.map_or(String::new(), |p| format!("the parameters file {}", p.display()));
    for (point, source) in [(params, file.as_str()), (at, "--at")] {
        if let Some((name, _)) = point.iter().find(|(n, _)| table.column(n).is_some()) {
            let message =
                format!("`{name}` is a column of the data and also has a value in {source}");
            let hint = format!(
                "a variable takes its values from one place: remove `{name}` from {source}, or \
                 its column from the data"
            );
            let error = Error::new(ErrorKind::Usage(message)).with_hint(hint);
            return Err(Failure::from_error(&error, ""));
        }
    }
    Ok(())
}

/// The evaluation program of `formula`: its value, with `grad` the gradient (of an array
/// result, the Jacobian) and with `hessian` the Hessian in `names`, derived as `diff` derives
/// them and simplified together (the canonical simplification, [`Simplify::Together`]), so
/// that shared work is done once, then compiled to a tape.
pub(crate) fn program(
    formula: &mut Formula,
    names: Vec<String>,
    grad: bool,
    hessian: bool,
) -> Result<Program, Failure> {
    if hessian {
        scalar_result(formula, "eval --hessian")?;
    }
    let wrt = formula.expand_names(&names);
    let ids = formula.ids(&wrt);
    let asked = Request { order: usize::from(grad), hessian, ..Request::new(ids) };
    let (derived, phases) = derive_together(formula, &asked).map_err(|e| failure(formula, e))?;
    let g = formula.graph();
    let outputs = derived.len();
    let mut roots: Vec<NodeId> = derived.iter().map(|d| d.value).collect();
    let mut labels: Vec<String> = match formula.is_scalar() {
        true => vec!["the value".to_string()],
        false => (0..outputs).map(|k| format!("the value of {}", formula.output_name(k))).collect(),
    };
    for d in derived.iter().filter(|_| grad) {
        roots.extend(&d.derivatives);
        labels.extend(d.derivative_labels(g));
    }
    for d in &derived {
        roots.extend(d.hessian.concat());
        labels.extend(d.hessian_labels(g));
    }
    let start = Instant::now();
    let tape = formula.compile(&roots).map_err(|e| failure(formula, e))?;
    let phases = Phases { compile: start.elapsed(), ..phases };
    Ok(Program { roots, labels, wrt, names, outputs, grad, hessian, tape, phases })
}

/// What `asked` asks of each element of the result: derived, then simplified together,
/// each stage timed.
fn derive_together(
    formula: &mut Formula,
    asked: &Request,
) -> chainrule::Result<(Vec<Derived>, Phases)> {
    let start = Instant::now();
    let raw_request = asked.clone().simplify(Simplify::Raw);
    let raw = (0..formula.outputs().len())
        .map(|k| formula.derive_output(k, &raw_request))
        .collect::<chainrule::Result<Vec<_>>>()?;
    let diff = start.elapsed();
    let start = Instant::now();
    let derived = Derived::together(raw, formula.graph_mut())?;
    Ok((derived, Phases { diff, simplify: start.elapsed(), compile: Duration::ZERO }))
}

fn at_point(
    formula: &Formula,
    program: &Program,
    point: &[(String, f64)],
    as_json: bool,
    out: &mut impl Write,
) -> Result<i32, Failure> {
    let values = bind_point(formula, &program.roots, point)?;
    let tape = &program.tape;
    let results = tape.run(&values, &mut Vec::new());
    let text = if as_json {
        format!("{}\n", result_object(formula, program, &results))
    } else {
        plain_text(formula, program, &results)
    };
    write(out, &text)?;
    match results.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(nonfinite(formula, tape, &values, &program.labels[i], results[i], None)),
        None => Ok(0),
    }
}

/// Values for every variable of the formula; the ones the roots need must be given.
pub(crate) fn bind_point(
    formula: &Formula,
    roots: &[NodeId],
    point: &[(String, f64)],
) -> Result<Vec<f64>, Failure> {
    let needed = needed_vars(formula, roots);
    let given = by_name(point);
    formula
        .vars()
        .map(|var| match given.get(var.name.as_str()) {
            Some(&v) => Ok(v),
            None if needed[var.id.index()] => Err(unbound(formula, &var.name, "")),
            None => Ok(0.0),
        })
        .collect()
}

/// The values of a point by name (the last one given for a name wins).
fn by_name(point: &[(String, f64)]) -> HashMap<&str, f64> {
    point.iter().map(|(n, v)| (n.as_str(), *v)).collect()
}

/// For each variable id, whether `roots` depend on it.
fn needed_vars(formula: &Formula, roots: &[NodeId]) -> Vec<bool> {
    let g = formula.graph();
    let mut needed = vec![false; g.variables().len()];
    for v in walk::free_vars(g, roots).into_iter().filter_map(|n| g.var_of(n)) {
        needed[v.index()] = true;
    }
    needed
}

fn unbound(formula: &Formula, name: &str, data_hint: &str) -> Failure {
    // each array whole (`W=[[1,1],[1,1]]`), each scalar by its name
    let example = formula
        .names()
        .iter()
        .map(|name| match formula.array(name) {
            Some(a) => {
                let ones = vec!["1".to_string(); a.elements.len()];
                format!("{name}={}", chainrule::formula::nested_text(&a.shape, &ones))
            }
            None => format!("{name}=1"),
        })
        .collect::<Vec<_>>()
        .join(",")
        .replace(", ", ",");
    failure(
        formula,
        Error::new(ErrorKind::Unbound(name.to_string()))
            .with_hint(format!("give every variable a value{data_hint}: --at {example}")),
    )
}

fn over_rows(
    formula: &Formula,
    program: &Program,
    point: &[(String, f64)],
    table: &Table,
    args: &EvalArgs,
    out: &mut impl Write,
) -> Result<i32, Failure> {
    let columns = bind_columns(formula, &program.roots, table, point)?;
    let tape = &program.tape;
    let rows = table.rows();
    let reduce = match args.reduce {
        ReduceArg::Mean => Reduce::Mean,
        ReduceArg::Sum => Reduce::Sum,
        ReduceArg::None => Reduce::None,
    };
    let results = tape.run_batch(&columns, rows, reduce);
    let width = program.roots.len();
    let text = match (reduce, args.json) {
        (Reduce::None, true) => {
            let list: Vec<Value> =
                results.chunks(width).map(|r| result_object(formula, program, r)).collect();
            format!("{}\n", serde_json::json!({ "rows": list }))
        }
        (Reduce::None, false) => table_text(formula, program, &results),
        (_, true) => format!("{}\n", result_object(formula, program, &results)),
        (_, false) => plain_text(formula, program, &results),
    };
    write(out, &text)?;
    match results.iter().position(|v| !v.is_finite()) {
        None => Ok(0),
        Some(_) => {
            let every_row = tape.run_batch(&columns, rows, Reduce::None);
            let k = every_row.iter().position(|v| !v.is_finite()).unwrap_or(0);
            let (row, i) = (k / width, k % width);
            let values: Vec<f64> = columns
                .iter()
                .map(|c| match c {
                    Column::Rows(d) => d[row],
                    Column::Fixed(v) => *v,
                })
                .collect();
            Err(nonfinite(formula, tape, &values, &program.labels[i], every_row[k], Some(row + 1)))
        }
    }
}

/// A column (or an --at value) for every variable; every column must name a variable.
fn bind_columns<'t>(
    formula: &Formula,
    roots: &[NodeId],
    table: &'t Table,
    point: &[(String, f64)],
) -> Result<Vec<Column<'t, f64>>, Failure> {
    eval::data::check_columns(table, formula, "the formula").map_err(|e| failure(formula, e))?;
    let needed = needed_vars(formula, roots);
    let given = by_name(point);
    let mut columns: HashMap<&str, &[f64]> = HashMap::with_capacity(table.names.len());
    for (name, column) in table.names.iter().zip(&table.columns) {
        columns.entry(name.as_str()).or_insert(column.as_slice());
    }
    formula
        .vars()
        .map(|var| match (columns.get(var.name.as_str()), given.get(var.name.as_str())) {
            (Some(column), _) => Ok(Column::Rows(column)),
            (None, Some(&v)) => Ok(Column::Fixed(v)),
            (None, None) if needed[var.id.index()] => {
                Err(unbound(formula, &var.name, " (a data column or --at)"))
            }
            (None, None) => Ok(Column::Fixed(0.0)),
        })
        .collect()
}

fn write(out: &mut impl Write, text: &str) -> Result<(), Failure> {
    out.write_all(text.as_bytes()).map_err(|e| usage(e.to_string()))
}

/// `{"value": .., "gradient": {..}, "hessian": {..}}` from one row of results (for an array
/// result, the value a nested list and `"jacobian"` instead of `"gradient"`).
fn result_object(formula: &Formula, program: &Program, results: &[f64]) -> Value {
    let n = program.wrt.len();
    let names = || program.wrt.iter().cloned();
    let numbers = |values: &[f64]| values.iter().map(|&v| json::number(v)).collect::<Vec<_>>();
    let mut object = serde_json::Map::new();
    let (values, mut rest) = results.split_at(program.outputs);
    object.insert("value".into(), json::nest(formula.shape(), numbers(values)));
    if program.grad {
        let (derivatives, after) = rest.split_at(n * program.outputs);
        let (key, value) = match formula.is_scalar() {
            true => ("gradient", json::by_name(formula, &program.names, numbers(derivatives))),
            false => ("jacobian", json::jacobian(formula, &program.names, numbers(derivatives))),
        };
        object.insert(key.into(), value);
        rest = after;
    }
    if program.hessian {
        let rows = names().enumerate().map(|(i, a)| {
            let row = names().zip(rest[i * n..(i + 1) * n].iter().map(|&v| json::number(v)));
            (a, json::object(row))
        });
        object.insert("hessian".into(), json::object(rows));
    }
    Value::Object(object)
}

fn plain_text(formula: &Formula, program: &Program, results: &[f64]) -> String {
    let values: Vec<String> =
        results[..program.outputs].iter().map(|&v| print::format_float(v)).collect();
    let mut s = format!("value = {}\n", chainrule::formula::nested_text(formula.shape(), &values));
    for (label, v) in program.labels.iter().zip(results).skip(program.outputs) {
        s.push_str(&format!("{label} = {}\n", print::format_float(*v)));
    }
    s
}

/// Every row's results as CSV with a header.
fn table_text(formula: &Formula, program: &Program, results: &[f64]) -> String {
    let values: Vec<String> = match formula.is_scalar() {
        true => vec!["value".into()],
        false => (0..program.outputs).map(|k| format!("\"{}\"", formula.output_name(k))).collect(),
    };
    let derivatives = program.labels.iter().skip(program.outputs).cloned();
    let header: Vec<String> = values.into_iter().chain(derivatives).collect();
    let mut s = header.join(",") + "\n";
    for row in results.chunks(program.roots.len()) {
        let cells: Vec<String> = row.iter().map(|&v| print::format_float(v)).collect();
        s.push_str(&(cells.join(",") + "\n"));
    }
    s
}

/// The error for a NaN or infinite result, pointing at the subexpression that made it.
fn nonfinite(
    formula: &Formula,
    tape: &eval::Tape,
    inputs: &[f64],
    what: &str,
    v: f64,
    row: Option<usize>,
) -> Failure {
    let mut message = format!("{what} is {}", print::format_float(v));
    if let Some(row) = row {
        message.push_str(&format!(" in data row {row}"));
    }
    let mut span = None;
    if let Some((node, value)) = tape.first_nonfinite(inputs) {
        message.push_str(&format!(
            ": `{}` gives {} here",
            formula.text(node),
            print::format_float(value)
        ));
        span = formula.origin(node);
    }
    failure(formula, Error { kind: ErrorKind::Domain(message), span, hint: None })
}
