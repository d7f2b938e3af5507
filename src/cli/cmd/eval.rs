//! `chainrule eval`: the value, gradient and Hessian at a point.

use crate::cli::input::{failure, parse_point, read_formula};
use crate::cli::{json, Failure, InputArgs};
use crate::error::{Error, ErrorKind};
use crate::{diff, eval, graph::walk, print, Formula, NodeId};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The point: `name=value` pairs, comma-separated.
    #[arg(long, value_name = "x=1.5,y=2", allow_hyphen_values = true)]
    at: Option<String>,
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

/// What was asked for, as graph roots: the value, then the gradient, then the Hessian rows.
struct Request {
    roots: Vec<NodeId>,
    labels: Vec<String>,
}

pub(crate) fn run(args: &EvalArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let mut formula = read_formula(&args.input)?;
    let point = parse_point(args.at.as_deref().unwrap_or(""))?;
    let request = request(&mut formula, args.grad, args.hessian)?;
    let inputs = bind(&formula, &request.roots, &point)?;
    let names: Vec<String> = inputs.iter().map(|(n, _)| n.clone()).collect();
    let values: Vec<f64> = inputs.iter().map(|&(_, v)| v).collect();
    let tape =
        eval::compile(&formula.graph, &request.roots, &names).map_err(|e| failure(&formula, e))?;
    let mut work = Vec::new();
    let results = tape.run(&values, &mut work);
    let text = if args.json {
        json_text(&formula, args, &results)
    } else {
        plain_text(&request, &results)
    };
    out.write_all(text.as_bytes())
        .map_err(|e| crate::cli::input::usage(e.to_string()))?;
    match results.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(nonfinite(
            &formula,
            &tape,
            &work,
            &request.labels[i],
            results[i],
        )),
        None => Ok(0),
    }
}

fn request(formula: &mut Formula, grad: bool, hessian: bool) -> Result<Request, Failure> {
    let vars: Vec<NodeId> = formula
        .vars
        .clone()
        .iter()
        .map(|v| formula.var(v))
        .collect();
    let mut roots = vec![formula.root];
    let mut labels = vec!["the value".to_string()];
    if grad {
        let g =
            diff::grad(&mut formula.graph, formula.root, &vars).map_err(|e| failure(formula, e))?;
        roots.extend(g);
        labels.extend(formula.vars.iter().map(|v| format!("d/d{v}")));
    }
    if hessian {
        let h = diff::hessian(&mut formula.graph, formula.root, &vars)
            .map_err(|e| failure(formula, e))?;
        for (a, row) in formula.vars.iter().zip(h) {
            roots.extend(row);
            labels.extend(formula.vars.iter().map(|b| format!("d2/d{a}d{b}")));
        }
    }
    Ok(Request { roots, labels })
}

/// Values for every variable of the formula; the ones the roots need must be given.
fn bind(
    formula: &Formula,
    roots: &[NodeId],
    point: &[(String, f64)],
) -> Result<Vec<(String, f64)>, Failure> {
    let needed: Vec<&str> = walk::free_vars(&formula.graph, roots)
        .into_iter()
        .filter_map(|n| formula.graph.name_of(n))
        .collect();
    formula
        .vars
        .iter()
        .map(|name| match point.iter().rev().find(|(n, _)| n == name) {
            Some(&(_, v)) => Ok((name.clone(), v)),
            None if needed.contains(&name.as_str()) => Err(failure(
                formula,
                Error::new(ErrorKind::Unbound(name.clone())).with_hint(format!(
                    "give every variable a value: --at {}",
                    example_point(formula)
                )),
            )),
            None => Ok((name.clone(), 0.0)),
        })
        .collect()
}

fn example_point(formula: &Formula) -> String {
    formula
        .vars
        .iter()
        .map(|v| format!("{v}=1"))
        .collect::<Vec<_>>()
        .join(",")
}

fn json_text(formula: &Formula, args: &EvalArgs, results: &[f64]) -> String {
    let n = formula.vars.len();
    let mut object = serde_json::Map::new();
    object.insert("value".into(), json::number(results[0]));
    let mut rest = &results[1..];
    if args.grad {
        let entries = formula
            .vars
            .iter()
            .cloned()
            .zip(rest[..n].iter().map(|&v| json::number(v)));
        object.insert("gradient".into(), json::object(entries));
        rest = &rest[n..];
    }
    if args.hessian {
        let rows = formula.vars.iter().enumerate().map(|(i, a)| {
            let row = formula
                .vars
                .iter()
                .cloned()
                .zip(rest[i * n..(i + 1) * n].iter().map(|&v| json::number(v)));
            (a.clone(), json::object(row))
        });
        object.insert("hessian".into(), json::object(rows));
    }
    format!("{}\n", serde_json::Value::Object(object))
}

fn plain_text(request: &Request, results: &[f64]) -> String {
    let mut s = format!("value = {}\n", print::format_float(results[0]));
    for (label, v) in request.labels.iter().zip(results).skip(1) {
        s.push_str(&format!("{label} = {}\n", print::format_float(*v)));
    }
    s
}

/// The error for a NaN or infinite result, pointing at the subexpression that made it.
fn nonfinite(formula: &Formula, tape: &eval::Tape, work: &[f64], what: &str, v: f64) -> Failure {
    let culprit = tape.first_nonfinite(&formula.graph, work);
    let mut message = format!("{what} is {}", json_word(v));
    let mut span = None;
    if let Some(node) = culprit {
        let value = tape
            .position(node)
            .and_then(|i| work.get(i))
            .copied()
            .unwrap_or(v);
        message.push_str(&format!(
            ": `{}` gives {} here",
            formula.text(node),
            json_word(value)
        ));
        span = formula.origin(node);
    }
    let error = Error {
        kind: ErrorKind::Domain(message),
        span,
        hint: None,
    };
    failure(formula, error)
}

fn json_word(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}
