//! SQL: one `SELECT` over a table whose columns are the free variables not fixed by `--at`
//! (those are literals). Locals become columns of a chain of common table expressions,
//! `stepK AS (SELECT *, ... AS t1 FROM stepK-1)`, each stage computing the locals whose
//! operands the stages before it computed; the final `SELECT` gives `value`, `d_<var>` and
//! `h_<x>_<y>` per row, or aggregated with `--reduce mean|sum`.
//!
//! SQL has no helper functions inside a query, so the stable forms are written out as
//! expressions (`CASE WHEN x >= 0 THEN 1.0 / (1.0 + EXP(-x)) ELSE ...`); an operand they
//! repeat is made a local first. `ln(1 + u)` and `e^x - 1`, which SQL lacks, use the
//! classic exact rewritings (`u * LN(1 + u) / ((1 + u) - 1)`, Kahan's `expm1`).

use super::emit::{Expr, Power, Program, Syntax, ATOM};
use super::names::{element_identifier, Namer};
use super::{group, header, list, list_of, Dialect, Language, Reduce, Unit};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{walk, Func, Op};
use crate::operators::Constant;
use crate::Formula;
use rustc_hash::FxHashMap as HashMap;

pub(crate) struct Sql {
    dialect: Dialect,
}

/// PostgreSQL's limit on the columns of one `SELECT`.
const POSTGRES_MAX_COLUMNS: usize = 1664;

/// Words that must be quoted to name a column (the reserved words of SQL:2016 that the
/// three dialects share, and their own).
const KEYWORDS: &[&str] = &[
    "all",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "between",
    "both",
    "by",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "delete",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "filter",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "in",
    "inner",
    "insert",
    "intersect",
    "interval",
    "into",
    "is",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "over",
    "partition",
    "primary",
    "qualify",
    "range",
    "references",
    "returning",
    "right",
    "row",
    "rows",
    "select",
    "semi",
    "anti",
    "session_user",
    "set",
    "some",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "values",
    "when",
    "where",
    "window",
    "with",
    "value",
];

/// The stable forms SQL lacks, over `$0`, `$1`, `$2` (an operand named twice must be a
/// name: the emitter makes it a local).
fn helper(name: &str, dialect: Dialect) -> Option<String> {
    let sigmoid =
        "CASE WHEN $0 >= 0 THEN 1.0 / (1.0 + EXP(-$0)) ELSE EXP($0) / (1.0 + EXP($0)) END";
    let expm1 = "CASE WHEN $0 > 700.0 THEN EXP($0) WHEN EXP($0) = 1.0 THEN $0 \
                 WHEN EXP($0) - 1.0 = -1.0 THEN -1.0 ELSE (EXP($0) - 1.0) * $0 / LN(EXP($0)) END";
    let log1p_u = "CASE WHEN 1.0 + U = 1.0 THEN U ELSE U * LN(1.0 + U) / ((1.0 + U) - 1.0) END";
    Some(match name {
        "cr_sigmoid" => sigmoid.into(),
        "cr_silu" => format!("($0 * {sigmoid})"),
        "cr_softplus" => {
            format!("(GREATEST($0, 0.0) + {})", log1p_u.replace('U', "EXP(-ABS($0))"))
        }
        "cr_log1p" => log1p_u.replace('U', "$0"),
        "cr_expm1" => expm1.into(),
        "cr_elu" => format!("CASE WHEN $0 > 0 THEN $0 ELSE {expm1} END"),
        "cr_step" => "CASE WHEN $0 > 0 THEN 1.0 ELSE 0.0 END".into(),
        "cr_round" => "CASE WHEN ABS($0 - TRUNC($0)) >= 0.5 THEN TRUNC($0) + SIGN($0) \
                       ELSE TRUNC($0) END"
            .into(),
        "cr_hypot" => "SQRT($0 * $0 + $1 * $1)".into(),
        "cr_leaky_relu" => "CASE WHEN $0 > 0 THEN $0 ELSE $1 * $0 END".into(),
        "cr_clamp" => {
            let nan = Sql::new(dialect).number(f64::NAN);
            format!("CASE WHEN $1 > $2 THEN {nan} ELSE LEAST(GREATEST($0, $1), $2) END")
        }
        "cr_erf" if dialect == Dialect::Postgres => "ERF($0)".into(),
        "cr_erfc" if dialect == Dialect::Postgres => "ERFC($0)".into(),
        "cr_gelu" if dialect == Dialect::Postgres => {
            "($0 * 0.5 * ERFC($0 * -0.7071067811865476))".into()
        }
        _ => return None,
    })
}

impl Sql {
    pub(crate) fn new(dialect: Dialect) -> Sql {
        Sql { dialect }
    }

    fn quote(&self, name: &str) -> String {
        let plain = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && !KEYWORDS.contains(&name);
        match (plain, self.dialect) {
            (true, _) => name.to_string(),
            (false, Dialect::Spark) => format!("`{name}`"),
            (false, _) => format!("\"{name}\""),
        }
    }

    fn double(&self, text: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!("'{text}'::float8"),
            _ => format!("CAST('{text}' AS DOUBLE)"),
        }
    }
}

impl Syntax for Sql {
    fn is_reserved(&self, name: &str) -> bool {
        name.starts_with("cr_")
    }

    fn number(&self, v: f64) -> String {
        if v.is_nan() {
            self.double("NaN")
        } else if v.is_infinite() {
            let inf = self.double("Infinity");
            if v > 0.0 {
                inf
            } else {
                format!("-{inf}")
            }
        } else {
            format!("{v:?}")
        }
    }

    fn constant(&self, c: Constant) -> String {
        match c {
            Constant::Pi => "PI()".into(),
            Constant::E => format!("{:?}", c.value()),
        }
    }

    fn func(&self, f: Func) -> String {
        let template = f.row().code.sql;
        let name = template.split('(').next().unwrap_or(template);
        match (f, self.dialect) {
            (Func::Log2, Dialect::Postgres) => "(LN($0) / 0.6931471805599453)".into(),
            _ => helper(name, self.dialect).unwrap_or_else(|| template.to_string()),
        }
    }

    fn power(&self, p: Power) -> (&'static str, u8) {
        match p {
            Power::Square => ("POWER($0, 2)", ATOM),
            Power::Powi | Power::Powf => ("POWER($0, $1)", ATOM),
        }
    }

    fn logsumexp(&self, args: &[Expr]) -> Expr {
        let texts: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
        let m = format!("GREATEST({})", texts.join(", "));
        let terms: Vec<String> = texts.iter().map(|t| format!("EXP({t} - {m})")).collect();
        Expr::new(format!("({m} + LN({}))", terms.join(" + ")), ATOM)
    }

    fn logsumexp_repeats(&self) -> bool {
        true
    }

    fn fixed_as_locals(&self) -> bool {
        false
    }

    fn identifier(&self, name: &str) -> String {
        self.quote(name)
    }
}

impl Language for Sql {
    /// DuckDB and Spark have no error function.
    fn check(&self, formula: &Formula) -> Result<()> {
        let g = formula.graph();
        for n in walk::reachable(g, &[formula.root()]) {
            if let Op::Func(f) = g.op(n) {
                let code = f.row().code.sql;
                let name = code.split('(').next().unwrap_or(code);
                if name.starts_with("cr_") && helper(name, self.dialect).is_none() {
                    let message = format!(
                        "`{}` has no {} SQL form; generate --dialect postgres, or another \
                         language",
                        f.name(),
                        self.dialect.name()
                    );
                    return Err(Error::new(ErrorKind::Unsupported(message)));
                }
            }
        }
        Ok(())
    }

    fn namer(&self, _function: &str) -> Namer {
        Namer::new(|n| n.starts_with("cr_"), &["value"]).keeping_elements()
    }

    fn write(&self, unit: &Unit) -> Result<String> {
        let columns = output_columns(unit);
        let wide = unit.program.locals.len() + unit.inputs.len() + columns.len();
        if self.dialect == Dialect::Postgres && wide > POSTGRES_MAX_COLUMNS {
            let message = format!(
                "the query would need {wide} columns, more than PostgreSQL's limit of \
                 {POSTGRES_MAX_COLUMNS}; generate fewer derivatives (--wrt) or use DuckDB"
            );
            return Err(Error::new(ErrorKind::Unsupported(message)));
        }
        Ok(self.query(unit, &columns))
    }
}

/// `value`, `d_<var>`, `h_<x>_<y>` (an array element `W[1,2]` spelled `W_1_2` there).
fn output_columns(unit: &Unit) -> Vec<String> {
    let wrt: Vec<String> = unit.wrt.iter().map(|v| element_identifier(v)).collect();
    let mut columns = vec!["value".to_string()];
    columns.extend(wrt.iter().map(|v| format!("d_{v}")));
    if unit.options.hessian {
        for a in &wrt {
            columns.extend(wrt.iter().map(|b| format!("h_{a}_{b}")));
        }
    }
    columns
}

impl Sql {
    fn query(&self, unit: &Unit, columns: &[String]) -> String {
        let p = &unit.program;
        let mut out = String::new();
        for line in header(unit) {
            out.push_str(&format!("-- {line}\n"));
        }
        let data: Vec<&str> = unit.inputs.iter().map(|(name, _)| name.as_str()).collect();
        let groups = std::iter::once(None).chain(unit.wrt.iter().map(|v| group(v)));
        let listed = list_of(groups.chain(std::iter::repeat(None)).zip(columns.iter().cloned()));
        let table = self.table(&unit.options.table);
        out.push_str(&format!(
            "-- Columns of {table}: {} (the free variables not fixed by --at)\n",
            if data.is_empty() {
                "none".to_string()
            } else {
                let list = list(&data);
                list[1..list.len() - 1].to_string()
            }
        ));
        let per = match unit.options.reduce {
            Reduce::None => format!("one row per row of {table}"),
            Reduce::Mean => format!("one row, the mean over the rows of {table}"),
            Reduce::Sum => format!("one row, the sum over the rows of {table}"),
        };
        out.push_str(&format!("-- Output columns ({per}): {}\n", &listed[1..listed.len() - 1]));
        let prefix = if table.starts_with("step") { "cr_step" } else { "step" };
        let double = match self.dialect {
            Dialect::Postgres => "DOUBLE PRECISION",
            _ => "DOUBLE",
        };
        let inputs: Vec<String> = p
            .inputs
            .iter()
            .map(|(_, id)| format!("CAST({0} AS {double}) AS {0}", self.quote(id)))
            .collect();
        let first = if inputs.is_empty() { "1 AS cr_one".to_string() } else { inputs.join(", ") };
        out.push_str(&format!("WITH\n    {prefix}1 AS (SELECT {first} FROM {table})"));
        let stages = stages(p);
        for (k, stage) in stages.iter().enumerate() {
            let items: Vec<String> = stage
                .iter()
                .map(|&i| {
                    let (id, e) = &p.locals[i];
                    format!("{} AS {}", e.text, self.quote(id))
                })
                .collect();
            out.push_str(&format!(
                ",\n    {prefix}{} AS (\n        SELECT *,\n            {}\n        FROM {prefix}{})",
                k + 2,
                items.join(",\n            "),
                k + 1
            ));
        }
        let aggregate = match unit.options.reduce {
            Reduce::None => None,
            Reduce::Mean => Some("AVG"),
            Reduce::Sum => Some("SUM"),
        };
        let items: Vec<String> = p
            .outputs
            .iter()
            .zip(columns)
            .map(|(e, c)| match aggregate {
                Some(f) => format!("{f}({}) AS {}", e.text, self.quote(c)),
                None => format!("{} AS {}", e.text, self.quote(c)),
            })
            .collect();
        out.push_str(&format!(
            "\nSELECT\n    {}\nFROM {prefix}{};\n",
            items.join(",\n    "),
            stages.len() + 1
        ));
        out
    }

    fn table(&self, name: &str) -> String {
        name.split('.').map(|part| self.quote(part)).collect::<Vec<_>>().join(".")
    }
}

/// The locals grouped into stages: a local's stage is one past the latest stage of the
/// locals its expression names (read from its text: identifiers are whole words).
fn stages(p: &Program) -> Vec<Vec<usize>> {
    let mut stage_of: HashMap<&str, usize> = HashMap::default();
    let mut stages: Vec<Vec<usize>> = Vec::new();
    for (i, (id, e)) in p.locals.iter().enumerate() {
        let words = e.text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        let stage = words.filter_map(|w| stage_of.get(w)).map(|s| s + 1).max().unwrap_or(0);
        stage_of.insert(id, stage);
        if stages.len() <= stage {
            stages.resize(stage + 1, Vec::new());
        }
        stages[stage].push(i);
    }
    stages
}
