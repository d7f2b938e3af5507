//! `chainrule graph`: the DAG of a formula and its derivatives as DOT, SVG or JSON.

use crate::cli::cmd::eval::bind_point;
use crate::cli::input::{check_wrt, failure, read_formula, read_point, scalar_result, usage};
use crate::cli::output::write_atomic;
use crate::cli::{Failure, InputArgs};
use chainrule::print::graph::{summary_svg, GraphView};
use chainrule::Formula;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct GraphArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Also draw the derivatives with respect to these variables, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "x[,y...]")]
    wrt: Vec<String>,
    /// The order of the derivatives.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    order: u32,
    /// Picture format (default dot).
    #[arg(long, value_enum)]
    format: Option<GraphFormat>,
    /// Write the picture to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print statistics: node count by operation, depth, sharing (alone: only them).
    #[arg(long)]
    stats: bool,
    /// Show every node's value at this point and its adjoint (d result / d node).
    #[arg(long, value_name = "x=1,y=2", allow_hyphen_values = true)]
    at: Option<String>,
    /// Largest graph drawn as SVG (a larger one gets a summary instead) or shown unfolded
    /// in the HTML page (a larger one starts with its deeper subtrees folded).
    #[arg(long, default_value_t = 500, value_name = "N")]
    max_nodes: usize,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum GraphFormat {
    Dot,
    Svg,
    Json,
    /// One self-contained interactive HTML page.
    Html,
}

pub(crate) fn run(args: &GraphArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let mut formula = read_formula(&args.input)?;
    let wrt = check_wrt(&formula, &args.wrt)?;
    let at = match &args.at {
        Some(text) => {
            // Adjoints are derivatives of one number.
            scalar_result(&formula, "graph --at")?;
            Some(read_point(&formula, text)?)
        }
        None => None,
    };
    let mut view =
        formula.graph_view(&wrt, args.order as usize).map_err(|e| failure(&formula, e))?;
    if let Some(point) = &at {
        annotate(&mut formula, &mut view, point)?;
    }
    let stats = view.stats(formula.graph());
    let format = match (args.format, args.stats) {
        (Some(f), _) => f,
        (None, true) => return write(out, &stats.text()),
        (None, false) => GraphFormat::Dot,
    };
    let picture = match format {
        GraphFormat::Dot => view.dot(formula.graph()),
        GraphFormat::Json if args.stats => {
            let mut value: serde_json::Value =
                serde_json::from_str(&view.json(formula.graph())).expect("own JSON");
            value["stats"] = stats.json();
            value.to_string() + "\n"
        }
        GraphFormat::Json => view.json(formula.graph()) + "\n",
        GraphFormat::Html => {
            chainrule::print::html::page(formula.graph(), &view, formula.definitions(), args.max_nodes)
        }
        GraphFormat::Svg if view.len() > args.max_nodes => {
            eprintln!(
                "warning: the graph has {} nodes, more than --max-nodes {}: drawing a summary instead",
                view.len(),
                args.max_nodes
            );
            let headline = format!(
                "{} nodes: more than the {} that are drawn (--max-nodes)",
                stats.nodes, args.max_nodes
            );
            summary_svg(&stats, &headline)
        }
        #[cfg(feature = "svg")]
        GraphFormat::Svg => view.svg(formula.graph()),
        #[cfg(not(feature = "svg"))]
        GraphFormat::Svg => {
            return Err(usage(
                "this build of chainrule has no SVG layout (built without the `svg` feature); use --format dot or json",
            ))
        }
    };
    match &args.output {
        Some(path) => {
            write_atomic(path, picture.as_bytes())?;
            if args.stats && format != GraphFormat::Json {
                write(out, &stats.text())?;
            }
            Ok(0)
        }
        None => {
            write(out, &picture)?;
            if args.stats && format != GraphFormat::Json {
                eprint!("{}", stats.text());
            }
            Ok(0)
        }
    }
}

/// Values and adjoints at `point` on every node of `view`.
fn annotate(
    formula: &mut Formula,
    view: &mut GraphView,
    point: &[(String, f64)],
) -> Result<(), Failure> {
    let roots: Vec<_> = view.outputs().iter().map(|o| o.node).collect();
    let values = bind_point(formula, &roots, point)?;
    let nodes = view.nodes().to_vec();
    let sweep = formula.backprop(roots[0], &nodes, &values).map_err(|e| failure(formula, e))?;
    view.annotate(|n| (sweep.value(n).unwrap_or(f64::NAN), sweep.adjoint(n)));
    Ok(())
}

fn write(out: &mut impl Write, text: &str) -> Result<i32, Failure> {
    out.write_all(text.as_bytes()).map_err(|e| usage(e.to_string()))?;
    Ok(0)
}
