//! `chainrule trace`: the forward and backward passes at a point, one row per node, as text
//! for people or JSON for tools.

use crate::cli::cmd::eval::bind_point;
use crate::cli::input::{check_wrt, failure, read_formula, read_point, usage};
use crate::cli::{json, Failure, InputArgs};
use chainrule::print::trace::{trace, Trace};
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
    let text = if args.json { format!("{}\n", to_json(&steps)) } else { steps.text() };
    out.write_all(text.as_bytes()).map_err(|e| usage(e.to_string()))?;
    Ok(0)
}

/// The `trace --json` shape of SPEC.md (with each row's `name` besides).
fn to_json(t: &Trace) -> Value {
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
    let gradient = json::object(t.gradient.iter().map(|(n, v)| (n.clone(), json::number(*v))));
    json!({"forward": forward, "backward": backward, "gradient": gradient})
}
