//! Text to syntax tree: the pest grammar in `grammar/chainrule.pest`, precedence by pest's
//! Pratt parser, and the mapping of pest's errors to [`ErrorKind`]s with hints.
//!
//! A fast path reads the same grammar first (`fast.rs`, over the tokens of `lexer.rs`) and
//! builds the same tree; on any text it does not accept it declines and pest parses it, so
//! every error message still comes from the pest path.
//!
//! Precedence comes from the operator table ([`crate::operators::OPERATORS`]), loosest
//! first: `+ -` (left), `* /` (left), prefix `-` `+`, `^`/`**` (right).
//! Prefix signs sit between `*` and `^`, so `-x^2` is `-(x^2)` and `2^-x` is `2^(-x)`;
//! the grammar lets a prefix sign follow any infix operator.

pub mod ast;
pub mod depth;
mod fast;
mod grammar;
mod lexer;

use crate::error::{Error, ErrorKind, Result, Span};
use crate::operators::{self, Fixity, Operator, OPERATORS};
use ast::{ChainOp, Expr, ExprKind, Form, Program, Range, Statement, Subscript};
use grammar::{FormulaParser, Rule};
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op as PrattOp, PrattParser};
use pest::Parser;
use std::sync::LazyLock;

/// The Pratt table, built from the operator table's precedence levels.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    operators::operator_levels().into_iter().fold(PrattParser::new(), |pratt, (_, rows)| {
        let level = rows.into_iter().map(|r| pratt_op(r.op, r.fixity)).reduce(|a, b| a | b);
        pratt.op(level.expect("a level has an operator"))
    })
});

/// The grammar rule of each operator.
fn rule_of(op: Operator) -> Rule {
    match op {
        Operator::Add => Rule::add,
        Operator::Sub => Rule::sub,
        Operator::Mul => Rule::mul,
        Operator::Div => Rule::div,
        Operator::Neg => Rule::neg,
        Operator::Pos => Rule::pos,
        Operator::Pow => Rule::pow,
        Operator::MatMul => Rule::matmul,
    }
}

/// The operator a grammar rule writes.
fn operator_of(rule: Rule) -> Operator {
    let mut ops = OPERATORS.iter().map(|row| row.op);
    ops.find(|op| rule_of(*op) == rule).expect("an operator rule")
}

fn pratt_op(op: Operator, fixity: Fixity) -> PrattOp<Rule> {
    let rule = rule_of(op);
    match fixity {
        Fixity::InfixLeft => PrattOp::infix(rule, Assoc::Left),
        Fixity::InfixRight => PrattOp::infix(rule, Assoc::Right),
        Fixity::Prefix => PrattOp::prefix(rule),
    }
}

/// Options for parsing.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// The deepest nesting accepted (brackets, calls, `^` chains, prefix signs).
    pub max_depth: usize,
    /// The longest formula accepted, in bytes.
    pub max_bytes: usize,
    /// The most array elements and indexed terms a formula may build (SPEC "Arrays").
    pub max_elements: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_depth: depth::DEFAULT_MAX_DEPTH,
            max_bytes: DEFAULT_MAX_BYTES,
            max_elements: DEFAULT_MAX_ELEMENTS,
        }
    }
}

/// Default limit on the array elements and indexed terms a formula builds: 10 million.
pub const DEFAULT_MAX_ELEMENTS: usize = 10_000_000;

/// Default limit on the size of a formula: 64 MiB.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// Stack bytes reserved per nesting level while pest and the tree builder recurse.
const STACK_PER_LEVEL: usize = 16 * 1024;

/// Parses a program with the default options.
pub fn parse(src: &str) -> Result<Program> {
    parse_with(src, ParseOptions::default())
}

/// Parses a program: the limits and the depth guard, then the fast path, or pest where the
/// fast path declines, then the checks on the statements.
pub fn parse_with(src: &str, options: ParseOptions) -> Result<Program> {
    let statements = |src: &str| Some(fast::statements(src).map_or_else(|| pest(src), Ok));
    guarded(src, options, statements).expect("pest parses what the fast path declines")
}

/// [`parse_with`] by the pest path alone: the reference the fast path is tested against.
pub fn parse_with_pest(src: &str, options: ParseOptions) -> Result<Program> {
    guarded(src, options, |src| Some(pest(src))).expect("pest parses every text")
}

/// [`parse_with`] by the fast path alone: `None` where it declines (and [`parse_with`]
/// would ask pest). Where it answers, the answer is [`parse_with_pest`]'s.
pub fn parse_fast(src: &str, options: ParseOptions) -> Option<Result<Program>> {
    guarded(src, options, |src| fast::statements(src).map(Ok))
}

/// The limits and the depth guard, then `statements` on a stack deep enough for the
/// nesting, then the checks on the statements.
fn guarded(
    src: &str,
    options: ParseOptions,
    statements: impl FnOnce(&str) -> Option<Result<Vec<Statement>>>,
) -> Option<Result<Program>> {
    if src.len() > options.max_bytes {
        let kind = ErrorKind::TooLarge { size: src.len(), limit: options.max_bytes };
        return Some(Err(Error::new(kind).with_hint("raise the limit (ParseOptions::max_bytes)")));
    }
    if is_blank(src) {
        let hint = "write a formula such as `x^2 + 1`";
        return Some(Err(Error::new(ErrorKind::Empty).with_hint(hint)));
    }
    let deepest = match depth::check(src, options.max_depth) {
        Ok(deepest) => deepest,
        Err(e) => return Some(Err(e)),
    };
    let parse = || statements(src).map(|statements| checked(src, statements?));
    // Deep (but allowed) nesting gets a stack of its own size instead of overflowing ours.
    let needed = (deepest + 64) * STACK_PER_LEVEL;
    match stacker::remaining_stack() {
        Some(left) if left > needed => parse(),
        _ => stacker::grow(needed, parse),
    }
}

/// The statements by pest and its Pratt parser.
fn pest(src: &str) -> Result<Vec<Statement>> {
    let mut pairs = FormulaParser::parse(Rule::program, src).map_err(|e| syntax_error(src, e))?;
    let program = pairs.next().expect("the program rule always yields one pair");
    program.into_inner().filter(|p| p.as_rule() != Rule::EOI).map(build_statement).collect()
}

/// The program, once its statements pass the checks that the grammar cannot make.
fn checked(src: &str, statements: Vec<Statement>) -> Result<Program> {
    check_no_stray_expression(src, &statements)?;
    check_no_leading_plus(src, &statements)?;
    Ok(Program { statements })
}

/// Every statement but the last assigns a name: a bare expression in the middle of a
/// program would be computed and lost, so it is an error rather than dropped.
fn check_no_stray_expression(src: &str, statements: &[Statement]) -> Result<()> {
    let Some((_, init)) = statements.split_last() else { return Ok(()) };
    let Some(i) = init.iter().position(|s| s.target.is_none()) else { return Ok(()) };
    let (stray, next) = (&statements[i].expr.span, &statements[i + 1]);
    let next_start = next.target.as_ref().map_or(next.expr.span.start, |(_, span)| span.start);
    let op = src[next_start..].chars().next().filter(|c| matches!(c, '+' | '-'));
    let hint = match op {
        Some(op) if src[stray.end..next_start].contains('\n') => format!(
            "to continue a line, end the previous line with the operator: `{op}` at the end of \
             line {}, not at the start of line {}",
            crate::error::line_col(src, stray.end).0,
            crate::error::line_col(src, next_start).0
        ),
        _ => "only the last statement is the result: assign this one to a name (`t = ...`) and \
              use it, or delete it"
            .to_string(),
    };
    Err(Error::at(ErrorKind::StrayExpression, *stray).with_hint(hint))
}

/// A statement that starts a line with `+` continues nothing: `h = x^2` then `+ y` on the
/// next line would silently make `+y` the result. (A leading `-` is a real statement.)
fn check_no_leading_plus(src: &str, statements: &[Statement]) -> Result<()> {
    for pair in statements.windows(2) {
        let (previous, next) = (&pair[0], &pair[1]);
        if next.target.is_some() || !src[next.expr.span.start..].starts_with('+') {
            continue;
        }
        if !src[previous.expr.span.end..next.expr.span.start].contains('\n') {
            continue;
        }
        let at = Span::new(next.expr.span.start, next.expr.span.start + 1);
        let line = |at: usize| crate::error::line_col(src, at).0;
        let kind = ErrorKind::Syntax("a line cannot start a statement with `+`".into());
        return Err(Error::at(kind, at).with_hint(format!(
            "to continue a line, end the previous line with the operator: `+` at the end of \
             line {}, not at the start of line {}",
            line(previous.expr.span.end),
            line(next.expr.span.start)
        )));
    }
    Ok(())
}

/// Only whitespace, separators and comments.
fn is_blank(src: &str) -> bool {
    src.lines().all(|line| {
        let code = line.split('#').next().unwrap_or("");
        code.chars().all(|c| c.is_whitespace() || c == ';')
    })
}

fn span_of(pair: &Pair<Rule>) -> Span {
    Span::new(pair.as_span().start(), pair.as_span().end())
}

fn build_statement(pair: Pair<Rule>) -> Result<Statement> {
    let rule = pair.as_rule();
    if rule == Rule::expr {
        return Ok(Statement { target: None, expr: build_expr(pair)?, form: Form::Value });
    }
    let mut inner = pair.into_inner();
    let name = inner.next().expect("a statement has a name");
    let target = Some((name.as_str().to_string(), span_of(&name)));
    let mut rest: Vec<Pair<Rule>> = inner.collect();
    let last = rest.pop().expect("a statement has a right-hand side");
    let form = match rule {
        Rule::declaration => Form::Declaration,
        Rule::definition => {
            Form::Function(rest.iter().map(|p| (p.as_str().to_string(), span_of(p))).collect())
        }
        _ => Form::Value,
    };
    let expr = match last.as_rule() {
        Rule::list => build_operand(last)?,
        _ => build_expr(last)?,
    };
    Ok(Statement { target, expr, form })
}

fn build_expr(pair: Pair<Rule>) -> Result<Expr> {
    stacker::maybe_grow(32 * 1024, 1024 * 1024, || pratt(pair.into_inner()))
}

fn pratt(pairs: Pairs<Rule>) -> Result<Expr> {
    PRATT
        .map_primary(build_operand)
        .map_prefix(|op, rhs| Ok(signed(operator_of(op.as_rule()), op.as_span().start(), rhs?)))
        .map_infix(|lhs, op, rhs| Ok(combine(lhs?, operator_of(op.as_rule()), rhs?)))
        .parse(pairs)
}

/// `-rhs` or `+rhs` (which is `rhs`, spanning its sign), the sign starting at `start`.
fn signed(op: Operator, start: usize, rhs: Expr) -> Expr {
    let span = Span::new(start, rhs.span.end);
    match op {
        Operator::Neg => Expr { kind: ExprKind::Neg(Box::new(rhs)), span },
        _ => Expr { kind: rhs.kind, span },
    }
}

/// `lhs op rhs`, extending `lhs` when it already is a chain of the same precedence level.
fn combine(lhs: Expr, op: Operator, rhs: Expr) -> Expr {
    let span = Span::new(lhs.span.start, rhs.span.end);
    let op = match op {
        Operator::Add => ChainOp::Add,
        Operator::Sub => ChainOp::Sub,
        Operator::Mul => ChainOp::Mul,
        Operator::Div => ChainOp::Div,
        Operator::MatMul => ChainOp::MatMul,
        _ => return Expr { kind: ExprKind::Pow(Box::new(lhs), Box::new(rhs)), span },
    };
    let additive = |o: ChainOp| matches!(o, ChainOp::Add | ChainOp::Sub);
    match lhs.kind {
        ExprKind::Chain(first, mut rest) if additive(rest[0].0) == additive(op) => {
            rest.push((op, rhs));
            Expr { kind: ExprKind::Chain(first, rest), span }
        }
        kind => {
            let lhs = Expr { kind, span: lhs.span };
            Expr { kind: ExprKind::Chain(Box::new(lhs), vec![(op, rhs)]), span }
        }
    }
}

fn build_operand(pair: Pair<Rule>) -> Result<Expr> {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::number => ExprKind::Number(parse_number(pair.as_str(), span)?),
        Rule::name => ExprKind::Name(pair.as_str().to_string()),
        Rule::paren => {
            let inner = build_expr(pair.into_inner().next().expect("paren holds an expr"))?;
            return Ok(Expr { kind: inner.kind, span });
        }
        Rule::list => build_list(pair)?,
        Rule::call => build_call(pair)?,
        Rule::indexed => return build_indexed(pair),
        rule => unreachable!("the grammar has no operand {rule:?}"),
    };
    Ok(Expr { kind, span })
}

fn build_call(pair: Pair<Rule>) -> Result<ExprKind> {
    let mut inner = pair.into_inner();
    let name = inner.next().expect("call has a name");
    let (name, name_span) = (name.as_str().to_string(), span_of(&name));
    let args = inner.map(|a| match a.as_rule() {
        Rule::range => Arg::Range(a),
        _ => Arg::Expr(a),
    });
    call_kind(name, name_span, args.collect(), span_of, build_range, build_expr)
}

/// A call's argument as a parser holds it, before or after building: a range `i = lo..hi`
/// or an expression.
enum Arg<R, E> {
    Range(R),
    Expr(E),
}

/// A call, or an indexed form when its leading arguments are ranges (`sum(i = 1..n, x[i])`).
/// Arguments are built in order once their places are known to be right.
fn call_kind<R, E>(
    name: String,
    name_span: Span,
    args: Vec<Arg<R, E>>,
    range_span: impl Fn(&R) -> Span,
    range: impl FnMut(R) -> Result<Range>,
    mut expr: impl FnMut(E) -> Result<Expr>,
) -> Result<ExprKind> {
    let ranges = args.iter().take_while(|a| matches!(a, Arg::Range(_))).count();
    if ranges == 0 {
        let mut plain = Vec::with_capacity(args.len());
        for arg in args {
            match arg {
                Arg::Expr(e) => plain.push(e),
                Arg::Range(stray) => return Err(range_out_of_place(range_span(&stray))),
            }
        }
        let args = plain.into_iter().map(expr).collect::<Result<_>>()?;
        return Ok(ExprKind::Call { name, name_span, args });
    }
    let mut args = args.into_iter();
    let ranges = args.by_ref().take(ranges).map(|a| match a {
        Arg::Range(r) => r,
        Arg::Expr(_) => unreachable!("the leading arguments are ranges"),
    });
    let ranges = ranges.map(range).collect::<Result<Vec<_>>>()?;
    let rest: Vec<Arg<R, E>> = args.collect();
    match <[_; 1]>::try_from(rest) {
        Ok([Arg::Expr(body)]) => {
            let body = Box::new(expr(body)?);
            Ok(ExprKind::Indexed { name, name_span, ranges, body })
        }
        _ => Err(Error::at(
            ErrorKind::Syntax(format!(
                "`{name}(i = lo..hi, ...)` takes its ranges, then one expression"
            )),
            name_span,
        )
        .with_hint(format!("write `{name}(i = 1..n, x[i])`"))),
    }
}

/// `[a, b, c]`, or a builder `[body for i = 1..n]` when the first item is followed by ranges.
fn build_list(pair: Pair<Rule>) -> Result<ExprKind> {
    let items: Vec<Pair<Rule>> = pair.into_inner().collect();
    match items.as_slice() {
        [body, ranges] if ranges.as_rule() == Rule::ranges => {
            let body = Box::new(build_expr(body.clone())?);
            let ranges = ranges.clone().into_inner().filter(|p| p.as_rule() == Rule::range);
            Ok(ExprKind::Builder { body, ranges: ranges.map(build_range).collect::<Result<_>>()? })
        }
        _ => Ok(ExprKind::List(items.into_iter().map(build_expr).collect::<Result<_>>()?)),
    }
}

fn range_out_of_place(span: Span) -> Error {
    Error::at(ErrorKind::Syntax("a range `i = lo..hi` must come first in the call".into()), span)
        .with_hint("write `sum(i = 1..n, x[i])`: the ranges, then the expression")
}

fn build_range(pair: Pair<Rule>) -> Result<Range> {
    let mut inner = pair.into_inner();
    let name = inner.next().expect("a range has a name");
    let lo = build_expr(inner.next().expect("a range has a first value"))?;
    let hi = build_expr(inner.next().expect("a range has a last value"))?;
    Ok(Range { name: name.as_str().to_string(), name_span: span_of(&name), lo, hi })
}

/// `base[...][...]`: each bracket indexes the value before it.
fn build_indexed(pair: Pair<Rule>) -> Result<Expr> {
    let mut inner = pair.into_inner();
    let mut expr = build_operand(inner.next().expect("an indexed operand has a base"))?;
    for subscripts in inner {
        let span = Span::new(expr.span.start, span_of(&subscripts).end);
        let subs = subscripts
            .into_inner()
            .map(|s| match s.as_rule() {
                Rule::all => Ok(Subscript::All(span_of(&s))),
                _ => build_expr(s).map(Subscript::At),
            })
            .collect::<Result<_>>()?;
        expr = Expr { kind: ExprKind::Index(Box::new(expr), subs), span };
    }
    Ok(expr)
}

fn parse_number(text: &str, span: Span) -> Result<f64> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(Error::at(
            ErrorKind::Syntax(format!("the number `{text}` is too large for a 64-bit float")),
            span,
        )),
    }
}

// ---------------------------------------------------------------------------------------
// pest errors to our errors

fn syntax_error(src: &str, err: pest::error::Error<Rule>) -> Error {
    let pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((a, _)) => a,
    };
    if let Some(e) = bracket_error(src, pos) {
        return e;
    }
    let expected = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => describe_expected(positives),
        pest::error::ErrorVariant::CustomError { message } => Some(message.clone()),
    };
    let next = src[pos..].chars().next();
    let span = Span::new(pos, pos + next.map_or(0, char::len_utf8));
    let found = match next {
        None => "the end of the formula".to_string(),
        Some('\n') => "the end of the line".to_string(),
        Some(c) if c.is_control() => format!("the character U+{:04X}", c as u32),
        Some(c) => format!("`{c}`"),
    };
    let message = match expected {
        Some(expected) => format!("expected {expected}, found {found}"),
        None => format!("unexpected {found}"),
    };
    let error = Error::at(ErrorKind::Syntax(message), span);
    match hint_for(src, pos) {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

fn describe_expected(rules: &[Rule]) -> Option<String> {
    let mut words: Vec<&str> = Vec::new();
    for rule in rules {
        let word = match rule {
            Rule::expr | Rule::number | Rule::name | Rule::call | Rule::list | Rule::paren => {
                "a number, a name or `(`"
            }
            Rule::neg | Rule::pos => "a number, a name or `(`",
            Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::pow | Rule::matmul => {
                "an operator"
            }
            Rule::EOI => "the end of the formula",
            _ => continue,
        };
        if !words.contains(&word) {
            words.push(word);
        }
    }
    match words.len() {
        0 => None,
        1 => Some(words[0].to_string()),
        _ => Some(format!("{} or {}", words[..words.len() - 1].join(", "), words[words.len() - 1])),
    }
}

/// An unclosed or unmatched bracket explains most errors at or before `pos` best.
fn bracket_error(src: &str, pos: usize) -> Option<Error> {
    let mut open: Vec<(usize, char)> = Vec::new();
    let mut in_comment = false;
    for (i, c) in src.char_indices() {
        // comments run to the end of the line; brackets there do not count
        in_comment = (in_comment || c == '#') && c != '\n';
        if in_comment {
            continue;
        }
        match c {
            '(' | '[' => open.push((i, c)),
            ')' | ']' => {
                let want = if c == ')' { '(' } else { '[' };
                match open.pop() {
                    Some((_, o)) if o == want => {}
                    _ if i <= pos => {
                        let msg = format!("unmatched `{c}`: no `{want}` before it to close");
                        return Some(Error::at(ErrorKind::Syntax(msg), Span::new(i, i + 1)));
                    }
                    _ => return None,
                }
            }
            _ => {}
        }
    }
    let (i, c) = *open.first()?;
    let at_end = src[pos..].trim().is_empty() || src[pos..].starts_with(['\n', ';']);
    at_end.then(|| {
        let close = if c == '(' { ')' } else { ']' };
        Error::at(ErrorKind::Syntax(format!("unclosed `{c}`")), Span::new(i, i + 1))
            .with_hint(format!("add the `{close}` that closes it"))
    })
}

/// A hint for the most common slips: `2x`, `(x)(y)`, `..5`, a dangling operator,
/// non-ASCII look-alikes, operators from other languages.
fn hint_for(src: &str, pos: usize) -> Option<String> {
    let before = src[..pos].trim_end();
    let Some(next) = src[pos..].chars().next().filter(|c| *c != '\n') else {
        let op = before.chars().last().filter(|c| "+-*/^,=".contains(*c))?;
        return Some(format!("`{op}` needs an operand after it"));
    };
    if let Some(ascii) = ascii_lookalike(next) {
        return Some(format!("only ASCII is allowed here; did you mean `{ascii}`?"));
    }
    if "&|%!<>~$?\\'\"{}".contains(next) {
        return Some(format!(
            "`{next}` is not an operator here; the operators are + - * / ^ (or **) and @"
        ));
    }
    if next == '.' {
        return Some("write numbers like 0.5, .5 or 5e-1".into());
    }
    let last = before.chars().last()?;
    if "+-*/^,=".contains(last) && "*/^),]".contains(next) {
        return Some(format!("`{last}` needs an operand after it"));
    }
    let operand_ends = last.is_ascii_alphanumeric() || last == '_' || last == ')' || last == '.';
    let operand_starts =
        next.is_ascii_alphabetic() || next == '_' || next == '(' || next.is_ascii_digit();
    if !(operand_ends && operand_starts) {
        return None;
    }
    let left = trailing_operand(before);
    let right = leading_operand(&src[pos..]);
    Some(format!("there is no implicit multiplication; did you mean `{left}*{right}`?"))
}

fn ascii_lookalike(c: char) -> Option<char> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21),
        '\u{00B7}' | '\u{00D7}' | '\u{22C5}' | '\u{2217}' => Some('*'),
        '\u{2212}' | '\u{2013}' => Some('-'),
        '\u{00F7}' | '\u{2215}' => Some('/'),
        _ => None,
    }
}

/// The number, name or bracketed group that ends `text`.
fn trailing_operand(text: &str) -> &str {
    if text.ends_with(')') {
        let mut depth = 0;
        for (i, c) in text.char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                let start = text[..i]
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(0, |j| j + 1);
                return &text[start..];
            }
        }
    }
    let start = text
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |j| j + 1);
    &text[start..]
}

/// The number, name, call or bracketed group that starts `text`.
fn leading_operand(text: &str) -> &str {
    let word = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(text.len());
    if !text[word..].starts_with('(') {
        return &text[..word];
    }
    let mut depth = 0;
    for (i, c) in text.char_indices().skip(word) {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return &text[..=i];
        }
    }
    text
}
