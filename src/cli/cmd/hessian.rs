//! `chainrule hessian`: every second partial derivative, the mixed ones included.

use super::diff::OutputArgs;
use crate::cli::input::{check_wrt, failure, read_formula};
use crate::cli::{json, Failure, Format, InputArgs};
use chainrule::print::{self, Notation};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub(crate) struct HessianArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The variables, comma-separated (default: every free variable).
    #[arg(long, value_delimiter = ',', value_name = "x[,y...]")]
    wrt: Vec<String>,
    #[command(flatten)]
    output: OutputArgs,
}

pub(crate) fn run(args: &HessianArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let mut formula = read_formula(&args.input)?;
    let wrt: Vec<String> = if args.wrt.is_empty() {
        formula.var_names().into_iter().map(str::to_string).collect()
    } else {
        args.wrt.clone()
    };
    check_wrt(&formula, &wrt)?;
    let ids = formula.ids(&wrt);
    let request = chainrule::Request::new(ids).with_hessian();
    let derived = formula.derive(&request).map_err(|e| failure(&formula, e))?;
    let g = formula.graph();
    let text = match args.output.format() {
        Format::Json => {
            // The same size check as the text form, then the full symmetric matrix.
            derived.hessian_lines(g, Notation::Text).map_err(|e| failure(&formula, e))?;
            let rows: Vec<(String, serde_json::Value)> = wrt
                .iter()
                .zip(&derived.hessian)
                .map(|(v, row)| {
                    let texts = row.iter().map(|&h| formula.text(h));
                    (v.clone(), json::object(wrt.iter().cloned().zip(texts)))
                })
                .collect();
            let simplified = formula.simplified().map_err(|e| failure(&formula, e))?;
            let value = serde_json::json!({
                "expr": formula.text(simplified),
                "hessian": json::object(rows),
            });
            format!("{value}\n")
        }
        Format::Text if args.output.cse => print::cse_program_named(
            g,
            &derived.hessian_entries(g, Notation::Text),
            formula.definitions(),
        ),
        Format::Text => {
            derived.hessian_lines(g, Notation::Text).map_err(|e| failure(&formula, e))?
        }
        Format::Latex => {
            derived.hessian_lines(g, Notation::Latex).map_err(|e| failure(&formula, e))?
        }
    };
    out.write_all(text.as_bytes()).map_err(|e| crate::cli::input::usage(e.to_string()))?;
    Ok(0)
}
