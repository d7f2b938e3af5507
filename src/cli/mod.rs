//! The command line: clap definitions, dispatch, and errors to exit statuses
//! (0 success, 1 a well-formed request that failed, 2 bad usage or a formula that does not
//! parse). Each subcommand is a thin file in `cmd/` that reads input, calls the library and
//! prints.

mod cmd;
mod hints;
mod input;
mod json;
mod output;

use chainrule::error::Error;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;

const EXAMPLES: &str = "\
Examples:
  chainrule diff \"x^3*sin(x)\" --wrt x
  chainrule grad \"sigmoid(w*x + b)\" --wrt w,b
  chainrule diff \"tanh(x*y)\" --wrt x --order 2 --format latex
  chainrule eval \"x^2*y\" --at x=1.5,y=2 --grad --json
  echo \"h = sigmoid(w*x + b); mse(h, y)\" | chainrule grad - --wrt w,b";

/// Exact derivatives of formulas, as text, LaTeX or JSON, and their values.
#[derive(Parser, Debug)]
#[command(name = "chainrule", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Differentiate a formula with respect to some variables.
    #[command(after_help = "Examples:\n  chainrule diff \"x^3*sin(x)\" --wrt x\n  \
                            chainrule diff \"x^2*y^3\" --wrt x,y --order 2 --format json\n  \
                            chainrule diff -f model.cr --wrt w --cse")]
    Diff(cmd::diff::DiffArgs),
    /// The gradient: derivatives with respect to every variable (or those of --wrt).
    #[command(after_help = "Examples:\n  chainrule grad \"sigmoid(w*x + b)\"\n  \
                            chainrule grad \"x*y + sin(x*y)\" --wrt x --format latex")]
    Grad(cmd::diff::GradArgs),
    /// Every second partial derivative, the mixed ones included (d2/dx2, d2/dxdy, ...).
    #[command(after_help = "Examples:\n  chainrule hessian \"x^2*y^3\"\n  \
                            chainrule hessian \"tanh(w*x + b)\" --wrt w,b --json")]
    Hessian(cmd::diff::GradArgs),
    /// Evaluate a formula, its gradient and Hessian at a point or over a data set.
    #[command(after_help = "Examples:\n  chainrule eval \"x^2*y\" --at x=1.5,y=2\n  \
                            chainrule eval \"sin(x)*y\" --at x=1,y=2 --grad --hessian --json\n  \
                            chainrule eval \"(w*x + b - y)^2\" --data rows.csv --at w=1,b=0 --grad")]
    Eval(cmd::eval::EvalArgs),
    /// Draw the DAG of a formula and its derivatives (DOT, SVG, JSON) with statistics.
    #[command(
        after_help = "Examples:\n  chainrule graph \"sigmoid(w*x + b)\" --wrt w,b --format svg -o g.svg\n  \
                            chainrule graph \"x*y + sin(x*y)\" --wrt x | dot -Tpng > g.png\n  \
                            chainrule graph -f model.cr --wrt w --stats"
    )]
    Graph(cmd::graph::GraphArgs),
    /// The forward and backward passes at a point, node by node (backpropagation by hand).
    #[command(after_help = "Examples:\n  chainrule trace \"sin(x*y) + x*y\" --at x=1,y=2\n  \
                            chainrule trace \"q = x + y; q*z\" --at x=-2,y=5,z=-4 --wrt x --json")]
    Trace(cmd::trace::TraceArgs),
    /// Train the parameters of a model written as a formula on a CSV data set.
    #[command(
        after_help = "Examples:\n  chainrule train -f examples/xor/model.expr --data examples/xor/xor.csv \\\n      \
                            --params W1,b1,v,c --optimizer adam --lr 0.1 --epochs 2000 --save xor.json\n  \
                            chainrule eval -f examples/xor/model.expr --params xor.json --at 'x=[1,0],y=1'"
    )]
    Train(cmd::train::TrainArgs),
    /// Compare symbolic derivatives with finite differences.
    #[command(after_help = "Examples:\n  chainrule check \"sin(x)*exp(y)\" --at x=0.5,y=1\n  \
                            chainrule check \"tanh(x*y)\" --hessian --points 5 --seed 7")]
    Check(cmd::check::CheckArgs),
    /// Source code computing the value and gradient: Rust, C, Python (NumPy) or SQL.
    #[command(
        after_help = "Examples:\n  chainrule codegen \"sigmoid(w*x + b)\" --lang rust --wrt w,b\n  \
                            chainrule codegen -f model.cr --lang c --hessian -o model.h\n  \
                            chainrule codegen -f examples/xor/model-scalar.expr --lang sql --reduce mean \\\n      \
                            --at w1_1=0.5,w1_2=-0.5 --table xor"
    )]
    Codegen(cmd::codegen::CodegenArgs),
    /// Check a hand-derived derivative: holds (symbolically or at many points) or fails at a point.
    #[command(
        after_help = "Examples:\n  chainrule verify \"x^2*sin(x)\" --wrt x --claim \"2*x*sin(x) + x^2*cos(x)\"\n  \
                            chainrule verify -f examples/xor/model-scalar.expr --claim-file examples/xor/backprop-wrong.claims"
    )]
    Verify(cmd::verify::VerifyArgs),
    /// Sizes and phase timings (parse, diff, simplify, compile, evaluate).
    #[command(after_help = "Example:\n  chainrule bench \"sigmoid(w*x + b)\" --json")]
    Bench(cmd::bench::BenchArgs),
}

/// Where the formula comes from: a string, `-` for standard input, or `-f PATH`.
#[derive(Args, Debug, Clone)]
pub(crate) struct InputArgs {
    /// The formula (or `-` to read it from standard input).
    #[arg(value_name = "EXPR", allow_hyphen_values = true, required_unless_present = "file")]
    expr: Option<String>,
    /// Read the formula from a file.
    #[arg(short = 'f', long = "file", value_name = "PATH", conflicts_with = "expr")]
    file: Option<std::path::PathBuf>,
    /// The deepest nesting of brackets, calls and powers accepted.
    #[arg(long, value_name = "N", default_value_t = chainrule::syntax::depth::DEFAULT_MAX_DEPTH)]
    max_depth: usize,
    /// The longest formula accepted, in bytes.
    #[arg(long, value_name = "N", default_value_t = chainrule::syntax::DEFAULT_MAX_BYTES)]
    max_bytes: usize,
    /// The most array elements and indexed terms a formula may build.
    #[arg(long, value_name = "N", default_value_t = chainrule::syntax::DEFAULT_MAX_ELEMENTS)]
    max_elements: usize,
    /// The most nodes the graph may grow to while differentiating and simplifying.
    #[arg(long, value_name = "N", default_value_t = chainrule::graph::DEFAULT_NODE_LIMIT)]
    node_limit: usize,
}

/// Output notations of `diff` and `grad`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// `d/dx = ...` lines in the formula syntax
    Text,
    /// LaTeX
    Latex,
    /// JSON, as SPEC.md fixes it
    Json,
}

/// An error ready to print: the rendered message and the exit status.
pub(crate) struct Failure {
    message: String,
    status: i32,
}

impl Failure {
    fn from_error(error: &Error, source: &str) -> Failure {
        let error = hints::with_flags(error);
        Failure { message: error.render(source), status: if error.is_usage() { 2 } else { 1 } }
    }
}

/// Runs the command line; returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let status = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return status;
        }
    };
    let mut stdout = std::io::stdout().lock();
    let result = match cli.command {
        Command::Diff(args) => cmd::diff::run_diff(&args, &mut stdout),
        Command::Grad(args) => cmd::diff::run_grad(&args, &mut stdout),
        Command::Hessian(args) => cmd::hessian::run(&args, &mut stdout),
        Command::Eval(args) => cmd::eval::run(&args, &mut stdout),
        Command::Check(args) => cmd::check::run(&args, &mut stdout),
        Command::Graph(args) => cmd::graph::run(&args, &mut stdout),
        Command::Trace(args) => cmd::trace::run(&args, &mut stdout),
        Command::Train(args) => cmd::train::run(&args, &mut stdout),
        Command::Bench(args) => cmd::bench::run(&args, &mut stdout),
        Command::Codegen(args) => cmd::codegen::run(&args, &mut stdout),
        Command::Verify(args) => cmd::verify::run(&args, &mut stdout),
    };
    let _ = stdout.flush();
    match result {
        Ok(status) => status,
        Err(failure) => {
            eprint!("{}", failure.message);
            failure.status
        }
    }
}
