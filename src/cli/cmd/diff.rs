//! `chainrule diff` and `chainrule grad`.

use crate::cli::input::{check_wrt, failure, read_formula};
use crate::cli::{json, Failure, Format, InputArgs};
use chainrule::{print, Formula, NodeId};
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

#[derive(Args, Debug)]
pub(crate) struct GradArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The variables, comma-separated (default: every free variable).
    #[arg(long, value_delimiter = ',', value_name = "x[,y...]")]
    wrt: Vec<String>,
    #[command(flatten)]
    output: OutputArgs,
}

/// How `diff` and `grad` print.
#[derive(Args, Debug)]
struct OutputArgs {
    /// Output notation.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The same as --format json.
    #[arg(long)]
    json: bool,
    /// Print shared subexpressions once, as assignments `t1 = ...` before the derivatives.
    #[arg(long)]
    cse: bool,
}

impl OutputArgs {
    fn format(&self) -> Format {
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
    let wrt = if args.wrt.is_empty() { formula.vars.clone() } else { args.wrt.clone() };
    emit(formula, &wrt, 1, &args.output, out)
}

fn emit(
    mut formula: Formula,
    wrt: &[String],
    order: usize,
    output: &OutputArgs,
    out: &mut impl Write,
) -> Result<i32, Failure> {
    let (format, cse) = (output.format(), output.cse);
    check_wrt(&formula, wrt)?;
    let derivatives = derivatives(&mut formula, wrt, order)?;
    if !cse || format == Format::Json {
        check_text_size(&formula, wrt, order, &derivatives)?;
    }
    let text = match format {
        Format::Json => json_text(&mut formula, wrt, order, &derivatives)?,
        Format::Text if cse => {
            let outputs: Vec<(String, NodeId)> = wrt
                .iter()
                .map(|v| print::derivative_label(v, order))
                .zip(derivatives.iter().copied())
                .collect();
            print::cse_program(&formula.graph, &outputs)
        }
        Format::Text | Format::Latex => {
            let notation = if format == Format::Latex {
                print::Notation::Latex
            } else {
                print::Notation::Text
            };
            let mut s = String::new();
            for (v, &d) in wrt.iter().zip(&derivatives) {
                let lhs = if notation == print::Notation::Latex {
                    latex_label(v, order)
                } else {
                    print::derivative_label(v, order)
                };
                s.push_str(&format!("{lhs} = {}\n", print::render(&formula.graph, d, notation)));
            }
            s
        }
    };
    out.write_all(text.as_bytes()).map_err(|e| crate::cli::input::usage(e.to_string()))?;
    Ok(0)
}

/// Printed texts larger than this are refused with a pointer to `--cse`.
const MAX_TEXT_BYTES: u64 = 64 << 20;

/// Refuses to print a derivative whose single-expression text would be enormous.
fn check_text_size(
    formula: &Formula,
    wrt: &[String],
    order: usize,
    ds: &[NodeId],
) -> Result<(), Failure> {
    for (v, &d) in wrt.iter().zip(ds) {
        let size = print::text_size(&formula.graph, d);
        if size > MAX_TEXT_BYTES {
            let message = format!(
                "the text of {} would be about {} MB, because one expression repeats every shared \
                 subexpression",
                print::derivative_label(v, order),
                size / (1 << 20)
            );
            let hint = "print it with --cse, which names shared subexpressions once (text in proportion to the graph)";
            return Err(failure(
                formula,
                chainrule::Error::new(chainrule::ErrorKind::Domain(message)).with_hint(hint),
            ));
        }
    }
    Ok(())
}

/// The simplified derivatives: one reverse sweep for the first order, repeated sweeps after.
fn derivatives(
    formula: &mut Formula,
    wrt: &[String],
    order: usize,
) -> Result<Vec<NodeId>, Failure> {
    let result = if order == 1 {
        formula.gradient(wrt)
    } else {
        wrt.iter().map(|v| formula.derivative(v, order)).collect()
    };
    result.map_err(|e| failure(formula, e))
}

fn json_text(
    formula: &mut Formula,
    wrt: &[String],
    order: usize,
    ds: &[NodeId],
) -> Result<String, Failure> {
    let simplified = formula.simplified().map_err(|e| failure(formula, e))?;
    let derivatives = json::object(wrt.iter().cloned().zip(ds.iter().map(|&d| formula.text(d))));
    let value = serde_json::json!({
        "expr": formula.text(simplified),
        "order": order,
        "derivatives": derivatives,
    });
    Ok(format!("{value}\n"))
}

fn latex_label(v: &str, order: usize) -> String {
    let name = print::latex_name(v);
    if order == 1 {
        format!("\\frac{{\\partial f}}{{\\partial {name}}}")
    } else {
        format!("\\frac{{\\partial^{{{order}}} f}}{{\\partial {name}^{{{order}}}}}")
    }
}
