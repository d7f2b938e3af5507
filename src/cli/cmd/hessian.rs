//! `chainrule hessian`: every second partial derivative, the mixed ones included.

use super::diff::GradArgs;
use crate::cli::input::{check_wrt, failure, read_formula};
use crate::cli::{json, Failure, Format};
use chainrule::print::{self, Notation};
use std::io::Write;

/// `hessian` takes what `grad` takes.
pub(crate) fn run(args: &GradArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let mut formula = read_formula(&args.input)?;
    let wrt = args.wrt_or_every_variable(&formula);
    check_wrt(&formula, &wrt)?;
    let ids = formula.ids(&wrt);
    let request = chainrule::Request::new(ids).with_hessian();
    let derived = formula.derive(&request).map_err(|e| failure(&formula, e))?;
    let g = formula.graph();
    let text = match args.output.format() {
        Format::Json => {
            derived.check_text_size(g).map_err(|e| failure(&formula, e))?;
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
