//! `chainrule hessian`: every second partial derivative, the mixed ones included.

use super::diff::{cse_lines, expr_text, GradArgs};
use crate::cli::input::{check_wrt, failure, read_formula, scalar_result};
use crate::cli::{json, Failure, Format};
use chainrule::print::Notation;
use chainrule::NodeId;
use std::collections::HashMap;
use std::io::Write;

/// `hessian` takes what `grad` takes.
pub(crate) fn run(args: &GradArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let mut formula = read_formula(&args.input)?;
    let wrt = check_wrt(&formula, &args.wrt_or_every_variable(&formula))?;
    scalar_result(&formula, "hessian")?;
    let ids = formula.ids(&wrt);
    let request = chainrule::Request::new(ids).with_hessian();
    let derived = formula.derive(&request).map_err(|e| failure(&formula, e))?;
    let g = formula.graph();
    let output = &args.output;
    let text = match output.format() {
        Format::Json => {
            if !output.cse {
                derived.check_text_size(g).map_err(|e| failure(&formula, e))?;
            }
            // The upper triangle, once each; the lower triangle repeats its texts.
            let pairs: Vec<(usize, usize)> =
                (0..wrt.len()).flat_map(|i| (i..wrt.len()).map(move |j| (i, j))).collect();
            let upper: Vec<(String, NodeId)> =
                pairs.iter().map(|&(i, j)| (String::new(), derived.hessian[i][j])).collect();
            let (assignments, texts) = output.json_texts(&formula, &upper);
            let text: HashMap<(usize, usize), String> = pairs.into_iter().zip(texts).collect();
            let entry = |i: usize, j: usize| text[&(i.min(j), i.max(j))].clone();
            let rows: Vec<(String, serde_json::Value)> = (wrt.iter().enumerate())
                .map(|(i, v)| {
                    let row = wrt.iter().enumerate().map(|(j, w)| (w.clone(), entry(i, j)));
                    (v.clone(), json::object(row))
                })
                .collect();
            let mut value = serde_json::json!({ "expr": expr_text(&mut formula)? });
            if let Some(assignments) = assignments {
                value["assignments"] = assignments;
            }
            value["hessian"] = json::object(rows);
            format!("{value}\n")
        }
        Format::Text if output.cse => {
            cse_lines(&formula, &derived.hessian_entries(g, Notation::Text), Notation::Text)
        }
        Format::Latex if output.cse => {
            cse_lines(&formula, &derived.hessian_entries(g, Notation::Latex), Notation::Latex)
        }
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
