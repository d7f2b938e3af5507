//! `chainrule diff` and `chainrule grad`.

use crate::cli::input::{check_wrt, failure, read_formula};
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
    /// The `--wrt` names, or every free variable of `formula` when there are none.
    pub(crate) fn wrt_or_every_variable(&self, formula: &Formula) -> Vec<String> {
        if self.wrt.is_empty() {
            formula.var_names().into_iter().map(str::to_string).collect()
        } else {
            self.wrt.clone()
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
    emit(formula, &args.wrt, args.order as usize, &args.output, out)
}

pub(crate) fn run_grad(args: &GradArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let formula = read_formula(&args.input)?;
    let wrt = args.wrt_or_every_variable(&formula);
    emit(formula, &wrt, 1, &args.output, out)
}

fn emit(
    mut formula: Formula,
    wrt: &[String],
    order: usize,
    output: &OutputArgs,
    out: &mut impl Write,
) -> Result<i32, Failure> {
    check_wrt(&formula, wrt)?;
    let ids = formula.ids(wrt);
    let derived =
        formula.derive(&Request::new(ids).order(order)).map_err(|e| failure(&formula, e))?;
    let g = formula.graph();
    let text = match output.format() {
        Format::Json => {
            derived.check_text_size(g).map_err(|e| failure(&formula, e))?;
            json_text(&mut formula, wrt, &derived)?
        }
        Format::Text if output.cse => {
            let labels = derived.derivative_labels(g);
            let outputs: Vec<(String, NodeId)> =
                labels.into_iter().zip(derived.derivatives.iter().copied()).collect();
            print::cse_program_named(g, &outputs, formula.definitions())
        }
        Format::Text => derived.lines(g, Notation::Text).map_err(|e| failure(&formula, e))?,
        Format::Latex => derived.lines(g, Notation::Latex).map_err(|e| failure(&formula, e))?,
    };
    out.write_all(text.as_bytes()).map_err(|e| crate::cli::input::usage(e.to_string()))?;
    Ok(0)
}

fn json_text(formula: &mut Formula, wrt: &[String], derived: &Derived) -> Result<String, Failure> {
    let simplified = formula.simplified().map_err(|e| failure(formula, e))?;
    let texts = derived.derivatives.iter().map(|&d| formula.text(d));
    let value = serde_json::json!({
        "expr": formula.text(simplified),
        "order": derived.order,
        "derivatives": json::object(wrt.iter().cloned().zip(texts)),
    });
    Ok(format!("{value}\n"))
}
