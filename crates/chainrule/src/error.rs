//! Errors are data: a kind, an optional span into the source text, and an optional hint.
//! [`Error::render`] is the only code that draws them (line:column, the source line, a caret).

use std::fmt;

/// A byte range `start..end` in the formula text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte of the offending text.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

impl Span {
    /// The span from `start` to `end` (bytes).
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end: end.max(start) }
    }
}

/// What went wrong. Each variant is one kind of failure a user can meet; more may come.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text does not follow the formula syntax.
    #[error("syntax error: {0}")]
    Syntax(String),
    /// The formula is empty (only blanks or comments).
    #[error("the formula is empty")]
    Empty,
    /// Brackets nest deeper than the limit.
    #[error("brackets and operators nest deeper than the limit of {limit} levels")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// A call to a name that is no function.
    #[error("unknown function `{0}`")]
    UnknownFunction(String),
    /// The formula text is longer than the limit.
    #[error("the formula is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A function called with the wrong number of arguments.
    #[error("`{name}` takes {expected}, got {got}")]
    Arity {
        /// Function name.
        name: String,
        /// What it takes, in words ("1 argument", "1 or 2 arguments").
        expected: String,
        /// How many it got.
        got: usize,
    },
    /// A list where a number is needed, or a number where a list is needed.
    #[error("{0}")]
    List(String),
    /// Arrays whose shapes do not fit the operation (`[2, 2] * [2]`, `@` with a scalar).
    #[error("shape error: {0}")]
    Shape(String),
    /// An index or range bound out of range, not a whole number, or not a constant.
    #[error("index error: {0}")]
    Index(String),
    /// A function that calls itself (directly or through another).
    #[error("`{0}` calls itself; functions cannot be recursive")]
    Recursion(String),
    /// More array elements and indexed terms than the limit.
    #[error("the formula builds more than the limit of {limit} array elements and indexed terms")]
    TooManyElements {
        /// The limit in force.
        limit: usize,
    },
    /// A name assigned twice in one program.
    #[error("`{0}` is already defined; a name is defined once")]
    Redefined(String),
    /// An expression that is neither the program's last statement nor assigned to a name:
    /// its value would be computed and lost.
    #[error("the value of this expression is lost: it is neither the last statement (the result) nor an assignment")]
    StrayExpression,
    /// A name used before the line that defines it.
    #[error("`{0}` is used before it is defined")]
    UsedBeforeDefined(String),
    /// An assignment to a constant or a function name.
    #[error("cannot assign to `{0}`: it is a built-in name")]
    ReservedName(String),
    /// A variable the request needs but was not given a value.
    #[error("no value for variable `{0}`")]
    Unbound(String),
    /// The command line is wrong (unknown variable in --wrt, bad --at value, ...).
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// A value could not be computed (NaN or infinity).
    #[error("{0}")]
    Domain(String),
    /// A graph would grow past the node limit.
    #[error("the graph would exceed the limit of {limit} nodes")]
    TooManyNodes {
        /// The limit in force.
        limit: usize,
    },
    /// Code generation cannot express the formula in the target language (a function the
    /// language lacks, more outputs than it allows).
    #[error("{0}")]
    Unsupported(String),
    /// A derivative printed as one expression would be longer than the printing limit.
    #[error(
        "the text of {label} would be about {megabytes} MB, because one expression repeats \
         every shared subexpression"
    )]
    TextTooLarge {
        /// Which derivative (`d/dx`).
        label: String,
        /// Its estimated size.
        megabytes: u64,
    },
}

/// An error with the place it points at.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Where, in the formula text.
    pub span: Option<Span>,
    /// A suggestion on what to do next.
    pub hint: Option<String>,
}

/// Result with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind` with no position.
    pub fn new(kind: ErrorKind) -> Error {
        Error { kind, span: None, hint: None }
    }

    /// An error of `kind` pointing at `span`.
    pub fn at(kind: ErrorKind, span: Span) -> Error {
        Error { kind, span: Some(span), hint: None }
    }

    /// The same error with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// True when the error is the user's request being malformed (exit status 2),
    /// false when a well-formed request failed (exit status 1).
    pub fn is_usage(&self) -> bool {
        !matches!(
            self.kind,
            ErrorKind::Io(_)
                | ErrorKind::Domain(_)
                | ErrorKind::TooManyNodes { .. }
                | ErrorKind::TextTooLarge { .. }
                | ErrorKind::Unsupported(_)
        )
    }

    /// The message with `line:col`, the source line and a caret under the span.
    pub fn render(&self, source: &str) -> String {
        let mut out = format!("error: {}\n", self.kind);
        if let Some(span) = self.span {
            out.push_str(&draw_caret(source, span));
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!("hint: {hint}\n"));
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// The candidate closest to `name` in spelling, when it is close enough to be a likely
/// slip (for "did you mean" hints): a difference of case, or a few edits that leave some of
/// the name (so `q` suggests no `x`).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_lowercase();
    let distance = |c: &str| edit_distance(&name, &c.to_lowercase());
    let best = candidates.into_iter().min_by_key(|c| distance(c))?;
    let (d, len) = (distance(best), name.chars().count());
    (d <= 1.max(len / 3) && d < len).then_some(best)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// 1-based line and column (in characters) of byte offset `pos`.
pub fn line_col(source: &str, pos: usize) -> (usize, usize) {
    let pos = floor_char_boundary(source, pos.min(source.len()));
    let before = &source[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, source[line_start..pos].chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut pos: usize) -> usize {
    while !s.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

/// ` --> line L, column C`, the source line (a window of it when long) and a caret line.
fn draw_caret(source: &str, span: Span) -> String {
    let (line, col) = line_col(source, span.start);
    let text = source.split('\n').nth(line - 1).unwrap_or("").trim_end_matches('\r');
    let chars: Vec<char> = text.chars().collect();
    let first = (col - 1).saturating_sub(60);
    let last = (first + 120).min(chars.len());
    let ellipsis = if first > 0 { "..." } else { "" };
    let shown: String = chars[first.min(last)..last].iter().collect();
    let width = source
        .get(span.start..span.end.min(source.len()))
        .map_or(1, |s| s.split('\n').next().unwrap_or("").chars().count())
        .clamp(1, 60);
    let pad: String = chars[first.min(chars.len())..(col - 1).min(chars.len())]
        .iter()
        .map(|&c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let gutter = " ".repeat(line.to_string().len());
    let dots = " ".repeat(ellipsis.len());
    format!(
        "{gutter}--> line {line}, column {col}\n{gutter} |\n{line} | {ellipsis}{shown}\n{gutter} | {dots}{pad}{}\n",
        "^".repeat(width)
    )
}
