//! `chainrule trace`: the forward and backward passes at a point, one row per node, as text
//! for people or JSON for tools.

use crate::cli::cmd::eval::bind_point;
use crate::cli::input::{
    check_wrt, failure, normalize, read_formula, read_point, scalar_result, usage,
};
use crate::cli::{json, Failure, InputArgs};
use chainrule::print::trace::{trace, Trace};
use chainrule::Formula;
use clap::Args;
use serde_json::{json, Value};
use std::io::Write;

#[derive(Args, Debug)]
pub(crate) struct TraceArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The point: `name=value` pairs, comma-separated.
    #[arg(long, value_name = "x=1,y=2", allow_hyphen_values = true)]
    at: String,
    /// Only the backward rows the derivatives with respect to these variables need
    /// (default: every variable).
    #[arg(long, value_delimiter = ',', value_name = "x[,y...]")]
    wrt: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &TraceArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let mut formula = read_formula(&args.input)?;
    scalar_result(&formula, "trace")?;
    let point = read_point(&formula, &args.at)?;
    let wrt = check_wrt(&formula, &args.wrt)?;
    let root = formula.root();
    let values = bind_point(&formula, &[root], &point)?;
    let sweep = formula.backprop(root, &[], &values).map_err(|e| failure(&formula, e))?;
    let wrt = if args.wrt.is_empty() {
        formula.var_nodes()
    } else {
        wrt.iter().map(|name| formula.var(name)).collect()
    };
    let steps = trace(formula.graph(), &sweep, formula.definitions(), &wrt);
    let names: Vec<String> = match args.wrt.is_empty() {
        true => formula.names(),
        false => args.wrt.iter().map(|n| normalize(n)).collect(),
    };
    let text = match args.json {
        true => format!("{}\n", to_json(&formula, &names, &steps)),
        false => steps.text(),
    };
    out.write_all(text.as_bytes()).map_err(|e| usage(e.to_string()))?;
    Ok(0)
}

/// The `trace --json` shape of SPEC.md (with each row's `name` besides); the gradient in
/// an array variable is a nested list of its shape, as `eval --grad` gives it.
fn to_json(formula: &Formula, names: &[String], t: &Trace) -> Value {
    let forward: Vec<Value> = t
        .forward
        .iter()
        .map(|r| {
            json!({"node": r.node, "name": r.name, "text": r.text, "value": json::number(r.value)})
        })
        .collect();
    let backward: Vec<Value> = t
        .backward
        .iter()
        .map(|r| {
            let terms: Vec<Value> = r
                .terms
                .iter()
                .map(|term| {
                    json!({
                        "user": term.user,
                        "partial": term.partial,
                        "local": json::number(term.local),
                        "user_adjoint": json::number(term.user_adjoint),
                    })
                })
                .collect();
            json!({
                "node": r.node,
                "name": r.name,
                "text": format!("adj({})", r.name),
                "adjoint": json::number(r.adjoint),
                "terms": terms,
            })
        })
        .collect();
    let by_element: std::collections::HashMap<&str, f64> =
        t.gradient.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let values = formula
        .expand_names(names)
        .iter()
        .map(|n| json::number(by_element.get(n.as_str()).copied().unwrap_or(0.0)))
        .collect();
    let gradient = json::by_name(formula, names, values);
    json!({"forward": forward, "backward": backward, "gradient": gradient})
}
