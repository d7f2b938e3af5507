//! The fast path: a recursive-descent reading of `grammar/chainrule.pest` over the tokens of
//! [`super::lexer`], with a Pratt loop for operators whose precedence comes from the operator
//! table, as pest's Pratt parser's does. It builds the same statements as the pest path, with
//! the same spans, through the same tree builders ([`super::combine`], [`super::signed`],
//! [`super::call_kind`], [`super::parse_number`]).
//!
//! It only ever accepts: on anything unexpected it returns `None` and the pest path parses
//! the text again, so pest stays the one source of every syntax error. Wherever the grammar
//! would try another alternative after a partial match, that alternative could only fail
//! (the test `tests/parse_agreement.rs` checks the two paths agree), so declining is right.
//! It recurses once per nesting level that [`super::depth`] counts, on the same stack.

use super::ast::{Expr, ExprKind, Form, Range, Statement, Subscript};
use super::lexer::{fits, token_at, Tok, Token};
use super::{call_kind, combine, parse_number, signed, Arg};
use crate::error::Span;
use crate::operators::{Fixity, Operator};

/// The statements of `src`, or `None` where the fast path declines.
pub(super) fn statements(src: &str) -> Option<Vec<Statement>> {
    if !fits(src) {
        return None;
    }
    let next = token_at(src, 0);
    let second = token_at(src, next.end());
    Parser { src, next, second, previous_end: 0 }.program()
}

/// How tightly an operator binds, from the operator table (pest's Pratt table has the same
/// order: ten per level, so that `power - 1` lies between two levels).
fn power(op: Operator) -> u32 {
    10 * op.precedence() as u32
}

/// The infix operator a token writes.
fn infix(tok: Tok) -> Option<Operator> {
    Some(match tok {
        Tok::Plus => Operator::Add,
        Tok::Minus => Operator::Sub,
        Tok::Star => Operator::Mul,
        Tok::Slash => Operator::Div,
        Tok::Caret => Operator::Pow,
        Tok::At => Operator::MatMul,
        _ => return None,
    })
}

/// The prefix operator a token writes.
fn prefix(tok: Tok) -> Option<Operator> {
    match tok {
        Tok::Minus => Some(Operator::Neg),
        Tok::Plus => Some(Operator::Pos),
        _ => None,
    }
}

/// Where a parser stands: copied to read ahead, and back to return.
#[derive(Clone, Copy)]
struct Parser<'s> {
    src: &'s str,
    /// The next token; [`Tok::End`] is never passed.
    next: Token,
    /// The token after it (each token is read once, as the second and then the next).
    second: Token,
    /// The end of the token passed last.
    previous_end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Tok {
        self.next.tok
    }

    fn peek_second(&self) -> Tok {
        self.second.tok
    }

    /// The token after `token`.
    fn after(&self, token: Token) -> Token {
        token_at(self.src, token.end())
    }

    fn bump(&mut self) -> Token {
        let token = self.next;
        if token.tok != Tok::End {
            self.next = self.second;
            self.second = self.after(self.second);
            self.previous_end = token.end();
        }
        token
    }

    /// The next token if it is a `tok`.
    fn eat(&mut self, tok: Tok) -> Option<Token> {
        (self.peek() == tok).then(|| self.bump())
    }

    /// The grammar's `nl*`.
    fn newlines(&mut self) {
        while self.peek() == Tok::Newline {
            self.bump();
        }
    }

    fn text(&self, token: Token) -> &str {
        &self.src[token.start()..token.end()]
    }

    /// `SOI separator* statement (separator+ statement)* separator* EOI`
    fn program(&mut self) -> Option<Vec<Statement>> {
        let mut statements = Vec::new();
        self.separators();
        loop {
            statements.push(self.statement()?);
            if !self.separators() || self.peek() == Tok::End {
                break;
            }
        }
        (self.peek() == Tok::End).then_some(statements)
    }

    /// Skips `;` and line breaks; true when there was one.
    fn separators(&mut self) -> bool {
        let mut any = false;
        while matches!(self.peek(), Tok::Semicolon | Tok::Newline) {
            self.bump();
            any = true;
        }
        any
    }

    /// `declaration | definition | assignment | expr`: the first two tokens decide, except
    /// for a definition, whose header `f(a, b) =` is read ahead.
    fn statement(&mut self) -> Option<Statement> {
        if self.peek() == Tok::Name {
            let start = *self;
            let name = self.bump();
            let target = Some((self.text(name).to_string(), span(name)));
            match self.peek() {
                Tok::Colon => {
                    self.bump();
                    let expr = self.list()?;
                    return Some(Statement { target, expr, form: Form::Declaration });
                }
                Tok::Equals => {
                    self.bump();
                    return Some(Statement { target, expr: self.expr(0)?, form: Form::Value });
                }
                Tok::Open => {
                    if let Some(params) = self.parameters() {
                        let form = Form::Function(params);
                        return Some(Statement { target, expr: self.expr(0)?, form });
                    }
                }
                _ => {}
            }
            *self = start;
        }
        Some(Statement { target: None, expr: self.expr(0)?, form: Form::Value })
    }

    /// A definition's `(a, b) =`, or `None` (and nothing read) when this is no definition.
    fn parameters(&mut self) -> Option<Vec<(String, Span)>> {
        let start = *self;
        let params = self.bracketed(Tok::Open, Tok::Close, |p| {
            let name = p.eat(Tok::Name)?;
            Some((p.text(name).to_string(), span(name)))
        });
        let params = params.and_then(|(params, _)| self.eat(Tok::Equals).map(|_| params));
        if params.is_none() {
            *self = start;
        }
        params
    }

    /// `open nl* (item nl* ("," nl* item nl*)*)? close`, and the end of `close`.
    fn bracketed<T>(
        &mut self,
        open: Tok,
        close: Tok,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<(Vec<T>, usize)> {
        self.eat(open)?;
        self.newlines();
        let items = if self.peek() == close {
            Vec::new()
        } else {
            let first = item(self)?;
            self.more_items(first, item)?
        };
        Some((items, self.eat(close)?.end()))
    }

    /// `nl* ("," nl* item nl*)*` after a `first` item.
    fn more_items<T>(
        &mut self,
        first: T,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut items = vec![first];
        self.newlines();
        while self.eat(Tok::Comma).is_some() {
            self.newlines();
            items.push(item(self)?);
            self.newlines();
        }
        Some(items)
    }

    /// `prefix* operand (infix nl* prefix* operand)*`, grouped as pest's Pratt parser groups
    /// it: operators that bind tighter than `floor` are taken into this expression.
    fn expr(&mut self, floor: u32) -> Option<Expr> {
        let mut lhs = match prefix(self.peek()) {
            Some(op) => {
                let sign = self.bump();
                signed(op, sign.start(), self.expr(power(op) - 1)?)
            }
            None => self.operand()?,
        };
        while let Some(op) = infix(self.peek()).filter(|op| power(*op) > floor) {
            self.bump();
            self.newlines();
            let floor = match op.row().fixity {
                Fixity::InfixRight => power(op) - 1,
                Fixity::InfixLeft | Fixity::Prefix => power(op),
            };
            lhs = combine(lhs, op, self.expr(floor)?);
        }
        Some(lhs)
    }

    /// `atom subscripts*`: each bracket indexes the value before it.
    fn operand(&mut self) -> Option<Expr> {
        let mut expr = self.atom()?;
        while self.peek() == Tok::OpenBracket {
            let (subscripts, end) =
                self.bracketed(Tok::OpenBracket, Tok::CloseBracket, |p| match p.eat(Tok::Colon) {
                    Some(all) => Some(Subscript::All(span(all))),
                    None => p.expr(0).map(Subscript::At),
                })?;
            if subscripts.is_empty() {
                return None;
            }
            let span = Span::new(expr.span.start, end);
            expr = Expr { kind: ExprKind::Index(Box::new(expr), subscripts), span };
        }
        Some(expr)
    }

    /// `number | call | name | list | paren`
    fn atom(&mut self) -> Option<Expr> {
        let token = self.next;
        let kind = match token.tok {
            Tok::Number => ExprKind::Number(parse_number(self.text(token), span(token)).ok()?),
            Tok::Name if self.peek_second() == Tok::Open => return self.call(),
            Tok::Name => ExprKind::Name(self.text(token).to_string()),
            Tok::OpenBracket => return self.list(),
            Tok::Open => {
                self.bump();
                self.newlines();
                let inner = self.expr(0)?;
                self.newlines();
                let close = self.eat(Tok::Close)?;
                return Some(Expr {
                    kind: inner.kind,
                    span: Span::new(token.start(), close.end()),
                });
            }
            _ => return None,
        };
        self.bump();
        Some(Expr { kind, span: span(token) })
    }

    /// `name(arguments)`, each argument a range `i = lo..hi` or an expression.
    fn call(&mut self) -> Option<Expr> {
        let name = self.bump();
        if !self.starts_with_range() {
            return self.plain_call(name);
        }
        let (args, end) = self.bracketed(Tok::Open, Tok::Close, |p| {
            if p.at_range() {
                let start = p.next.start();
                let range = p.range()?;
                Some(Arg::Range((range, Span::new(start, p.previous_end))))
            } else {
                p.expr(0).map(Arg::Expr)
            }
        })?;
        let name_text = self.text(name).to_string();
        let (range_span, range) = (|r: &(Range, Span)| r.1, |r: (Range, Span)| Ok(r.0));
        let kind = call_kind(name_text, span(name), args, range_span, range, Ok).ok()?;
        Some(Expr { kind, span: Span::new(name.start(), end) })
    }

    /// Whether a range `i = ...` starts at the next token.
    fn at_range(&self) -> bool {
        self.peek() == Tok::Name && self.peek_second() == Tok::Equals
    }

    /// Whether the argument list at the next token, `(`, starts with a range `i = ...`.
    fn starts_with_range(&self) -> bool {
        let mut first = self.second;
        while first.tok == Tok::Newline {
            first = self.after(first);
        }
        first.tok == Tok::Name && self.after(first).tok == Tok::Equals
    }

    /// A call whose first argument is no range: every argument an expression, read
    /// straight into the call ([`super::call_kind`] refuses a range after an expression, so
    /// one declines here).
    fn plain_call(&mut self, name: Token) -> Option<Expr> {
        let (args, end) = self.bracketed(Tok::Open, Tok::Close, |p| match p.at_range() {
            true => None,
            false => p.expr(0),
        })?;
        let kind =
            ExprKind::Call { name: self.text(name).to_string(), name_span: span(name), args };
        Some(Expr { kind, span: Span::new(name.start(), end) })
    }

    /// `[a, b, c]`, or the builder `[body for i = 1..n, j = 1..m]`.
    fn list(&mut self) -> Option<Expr> {
        let open = self.eat(Tok::OpenBracket)?;
        self.newlines();
        let kind = if self.peek() == Tok::CloseBracket {
            ExprKind::List(Vec::new())
        } else {
            let first = self.expr(0)?;
            self.newlines();
            if self.peek() == Tok::Name && self.text(self.next) == "for" {
                self.bump();
                let range = self.range()?;
                let ranges = self.more_items(range, Self::range)?;
                ExprKind::Builder { body: Box::new(first), ranges }
            } else {
                ExprKind::List(self.more_items(first, |p| p.expr(0))?)
            }
        };
        let end = self.eat(Tok::CloseBracket)?.end();
        Some(Expr { kind, span: Span::new(open.start(), end) })
    }

    /// `name = lo..hi`
    fn range(&mut self) -> Option<Range> {
        let name = self.eat(Tok::Name)?;
        self.eat(Tok::Equals)?;
        let lo = self.expr(0)?;
        self.eat(Tok::DotDot)?;
        let hi = self.expr(0)?;
        Some(Range { name: self.text(name).to_string(), name_span: span(name), lo, hi })
    }
}

fn span(token: Token) -> Span {
    Span::new(token.start(), token.end())
}
