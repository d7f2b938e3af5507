//! `chainrule diff` and `chainrule grad`.

use crate::cli::input::{check_wrt, failure, name_list, read_formula};
use crate::cli::{json, Failure, Format, InputArgs};
use chainrule::print::{self, Notation};
use chainrule::{Derived, Formula, NodeId, Request};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The variables to differentiate with respect to, comma-separated.
    #[arg(long, value_delimiter = ',', required = true, value_name = "x[,y...]")]
    wrt: Vec<String>,
    /// The order of the derivative.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    order: u32,
    #[command(flatten)]
    output: OutputArgs,
}

/// The arguments of `grad` and `hessian`: a formula, optional variables, output flags.
#[derive(Args, Debug)]
pub(crate) struct GradArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// The variables, comma-separated (default: every free variable).
    #[arg(long, value_delimiter = ',', value_name = "x[,y...]")]
    wrt: Vec<String>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

impl GradArgs {
    /// The `--wrt` names, or every free variable of `formula` when there are none (each
    /// array by its name).
    pub(crate) fn wrt_or_every_variable(&self, formula: &Formula) -> Vec<String> {
        if self.wrt.is_empty() {
            formula.names()
        } else {
            name_list(&self.wrt)
        }
    }
}

/// How `diff`, `grad` and `hessian` print.
#[derive(Args, Debug)]
pub(crate) struct OutputArgs {
    /// Output notation.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The same as --format json.
    #[arg(long)]
    json: bool,
    /// Print shared subexpressions once, as assignments `t1 = ...` before the derivatives.
    #[arg(long)]
    pub(crate) cse: bool,
}

impl OutputArgs {
    pub(crate) fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format
        }
    }
}

pub(crate) fn run_diff(args: &DiffArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let formula = read_formula(&args.input)?;
    let names = name_list(&args.wrt);
    emit(formula, &names, args.order as usize, &args.output, out)
}

pub(crate) fn run_grad(args: &GradArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let formula = read_formula(&args.input)?;
    let wrt = args.wrt_or_every_variable(&formula);
    emit(formula, &wrt, 1, &args.output, out)
}

/// The derivatives with respect to `names` (arrays by their names), of every element of
/// the result: its gradient, or the rows of its Jacobian.
fn emit(
    mut formula: Formula,
    names: &[String],
    order: usize,
    output: &OutputArgs,
    out: &mut impl Write,
) -> Result<i32, Failure> {
    let wrt = check_wrt(&formula, names)?;
    let request = Request::new(formula.ids(&wrt)).order(order);
    let derived = (0..formula.outputs().len())
        .map(|k| formula.derive_output(k, &request))
        .collect::<chainrule::Result<Vec<Derived>>>()
        .map_err(|e| failure(&formula, e))?;
    let text = match output.format() {
        Format::Json => {
            let g = formula.graph();
            let mut entries: Vec<(String, NodeId)> = Vec::new();
            for d in &derived {
                if !output.cse {
                    d.check_text_size(g).map_err(|e| failure(&formula, e))?;
                }
                entries.extend(d.derivative_labels(g).into_iter().zip(d.derivatives.clone()));
            }
            let (assignments, texts) = output.json_texts(&formula, &entries);
            let texts = texts.into_iter().map(serde_json::Value::from).collect();
            let mut value = serde_json::json!({
                "expr": expr_text(&mut formula)?,
                "order": order,
            });
            if let Some(assignments) = assignments {
                value["assignments"] = assignments;
            }
            match formula.is_scalar() {
                true => value["derivatives"] = json::by_name(&formula, names, texts),
                false => value["jacobian"] = json::jacobian(&formula, names, texts),
            }
            format!("{value}\n")
        }
        Format::Text => output.lines(&formula, &derived, Notation::Text)?,
        Format::Latex => output.lines(&formula, &derived, Notation::Latex)?,
    };
    out.write_all(text.as_bytes()).map_err(|e| crate::cli::input::usage(e.to_string()))?;
    Ok(0)
}

impl OutputArgs {
    /// The derivatives (or with `--cse`, the program naming what they share) as
    /// `label = expression` lines.
    fn lines(
        &self,
        formula: &Formula,
        derived: &[Derived],
        notation: Notation,
    ) -> Result<String, Failure> {
        let g = formula.graph();
        if self.cse {
            let entries: Vec<(String, NodeId)> =
                derived.iter().flat_map(|d| d.derivative_entries(g, notation)).collect();
            Ok(cse_lines(formula, &entries, notation))
        } else {
            let lines = derived.iter().map(|d| d.lines(g, notation));
            lines.collect::<chainrule::Result<String>>().map_err(|e| failure(formula, e))
        }
    }

    /// The texts of `entries` for JSON: each in full, or with `--cse` using the names of
    /// the assignments that come with them (`[{"name": "t1", "expr": "..."}, ...]`).
    pub(crate) fn json_texts(
        &self,
        formula: &Formula,
        entries: &[(String, NodeId)],
    ) -> (Option<serde_json::Value>, Vec<String>) {
        let g = formula.graph();
        if !self.cse {
            return (None, entries.iter().map(|&(_, id)| formula.text(id)).collect());
        }
        let cse = print::Cse::new(g, entries, formula.definitions());
        let assignments = cse
            .assignment_lines(g, Notation::Text)
            .into_iter()
            .map(|(name, expr)| serde_json::json!({"name": name, "expr": expr}))
            .collect();
        let texts = cse.output_lines(g, Notation::Text).into_iter().map(|(_, t)| t).collect();
        (Some(serde_json::Value::Array(assignments)), texts)
    }
}

/// `entries` as a program: the shared subexpressions' assignments, then `label = ...` lines.
pub(crate) fn cse_lines(
    formula: &Formula,
    entries: &[(String, NodeId)],
    notation: Notation,
) -> String {
    let g = formula.graph();
    let cse = print::Cse::new(g, entries, formula.definitions());
    let mut lines = cse.assignment_lines(g, notation);
    lines.extend(cse.output_lines(g, notation));
    lines.into_iter().map(|(name, body)| format!("{name} = {body}\n")).collect()
}

/// The formula's own text, canonical (a nested list for an array result).
pub(crate) fn expr_text(formula: &mut Formula) -> Result<String, Failure> {
    formula.result_text().map_err(|e| failure(formula, e))
}
