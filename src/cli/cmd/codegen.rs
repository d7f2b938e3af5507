//! `chainrule codegen`: the value and gradient (and Hessian) of a formula as the source of
//! one function in Rust, C, Python (NumPy) or SQL.

use crate::cli::input::{check_wrt, failure, normalize, read_formula, read_point, usage};
use crate::cli::{Failure, InputArgs};
use chainrule::codegen::{self, Dialect, Lang, Options, Reduce};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct CodegenArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The target language.
    #[arg(long, value_enum)]
    lang: LangArg,
    /// The variables of the gradient, comma-separated (default: every free variable not
    /// fixed by --at).
    #[arg(long, value_delimiter = ',', value_name = "x[,y...]")]
    wrt: Vec<String>,
    /// Also the Hessian (n x n, row-major).
    #[arg(long)]
    hessian: bool,
    /// The function's name.
    #[arg(long, default_value = "f", value_name = "NAME")]
    name: String,
    /// SQL dialect.
    #[arg(long, value_enum, default_value_t = DialectArg::Duckdb)]
    dialect: DialectArg,
    /// SQL: every row, or one row of means or sums.
    #[arg(long, value_enum, default_value_t = ReduceArg::None)]
    reduce: ReduceArg,
    /// Variables fixed to numbers, written into the code as literals: `p=1,q=0.5`.
    #[arg(long, value_name = "p=1,...", allow_hyphen_values = true)]
    at: Option<String>,
    /// SQL: the table whose columns are the free variables not fixed by --at.
    #[arg(long, default_value = "data", value_name = "NAME")]
    table: String,
    /// Write the code to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LangArg {
    Rust,
    C,
    Python,
    Sql,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum DialectArg {
    Duckdb,
    Postgres,
    Spark,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ReduceArg {
    None,
    Mean,
    Sum,
}

pub(crate) fn run(args: &CodegenArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let mut formula = read_formula(&args.input)?;
    let at = read_point(&formula, args.at.as_deref().unwrap_or(""))?;
    // The library spreads an array over its elements; the header shows `--wrt W` as given.
    check_wrt(&formula, &args.wrt)?;
    let wrt: Vec<String> = args.wrt.iter().map(|n| normalize(n)).collect();
    let options = Options {
        lang: match args.lang {
            LangArg::Rust => Lang::Rust,
            LangArg::C => Lang::C,
            LangArg::Python => Lang::Python,
            LangArg::Sql => Lang::Sql,
        },
        name: args.name.clone(),
        wrt: (!wrt.is_empty()).then_some(wrt),
        hessian: args.hessian,
        at,
        dialect: match args.dialect {
            DialectArg::Duckdb => Dialect::DuckDb,
            DialectArg::Postgres => Dialect::Postgres,
            DialectArg::Spark => Dialect::Spark,
        },
        reduce: match args.reduce {
            ReduceArg::None => Reduce::None,
            ReduceArg::Mean => Reduce::Mean,
            ReduceArg::Sum => Reduce::Sum,
        },
        table: args.table.clone(),
    };
    let code = codegen::generate(&mut formula, &options).map_err(|e| failure(&formula, e))?;
    match &args.output {
        Some(path) => std::fs::write(path, code).map_err(|e| {
            let message = format!("cannot write {}: {e}", path.display());
            let error = chainrule::Error::new(chainrule::ErrorKind::Io(message));
            failure(&formula, error)
        })?,
        None => out.write_all(code.as_bytes()).map_err(|e| usage(e.to_string()))?,
    }
    Ok(0)
}
