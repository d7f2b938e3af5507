//! The tokens of the fast parser ([`super::fast`]): the grammar's numbers, names and
//! symbols, with the blanks and comments that pest skips between them left out.
//! A byte the grammar has no token for ends lexing with `None` (pest then explains it).

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tok {
    /// `12`, `1.`, `.5`, `1e-3`: the grammar's `number`.
    Number,
    /// `x`, `w_1`, `sin`, `for`: the grammar's `name`.
    Name,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `^` or `**`
    Caret,
    /// `@`
    At,
    /// `(`
    Open,
    /// `)`
    Close,
    /// `[`
    OpenBracket,
    /// `]`
    CloseBracket,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `=`
    Equals,
    /// `..`
    DotDot,
    /// A line break.
    Newline,
    /// `;`
    Semicolon,
    /// The end of the text (always the last token).
    End,
}

/// A token and the bytes it covers.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    /// What it is.
    pub tok: Tok,
    /// Its first byte.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// The tokens of `src`, ending with [`Tok::End`]; `None` at a byte that starts no token.
pub(super) fn tokens(src: &str) -> Option<Vec<Token>> {
    let bytes = src.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 3 + 1);
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let byte = |k: usize| bytes.get(k).copied().unwrap_or(0);
        let (tok, end) = match bytes[i] {
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                // a comment runs to the end of the line (pest's COMMENT)
                i = src[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'0'..=b'9' => (Tok::Number, number_end(bytes, i)),
            b'.' if byte(i + 1) == b'.' => (Tok::DotDot, i + 2),
            b'.' if byte(i + 1).is_ascii_digit() => (Tok::Number, number_end(bytes, i)),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let len =
                    bytes[i..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_');
                (Tok::Name, i + len.count())
            }
            b'*' if byte(i + 1) == b'*' => (Tok::Caret, i + 2),
            other => (symbol(other)?, i + 1),
        };
        out.push(Token { tok, start, end });
        i = end;
    }
    out.push(Token { tok: Tok::End, start: bytes.len(), end: bytes.len() });
    Some(out)
}

/// The one-byte tokens.
fn symbol(byte: u8) -> Option<Tok> {
    Some(match byte {
        b'+' => Tok::Plus,
        b'-' => Tok::Minus,
        b'*' => Tok::Star,
        b'/' => Tok::Slash,
        b'^' => Tok::Caret,
        b'@' => Tok::At,
        b'(' => Tok::Open,
        b')' => Tok::Close,
        b'[' => Tok::OpenBracket,
        b']' => Tok::CloseBracket,
        b',' => Tok::Comma,
        b':' => Tok::Colon,
        b'=' => Tok::Equals,
        b'\n' => Tok::Newline,
        b';' => Tok::Semicolon,
        _ => return None,
    })
}

/// Where the number starting at `i` ends, as the grammar's `number` rule reads it:
/// `(digits ("." !"." digits?)? | "." digits) (("e" | "E") ("+" | "-")? digits)?`.
fn number_end(bytes: &[u8], i: usize) -> usize {
    let byte = |k: usize| bytes.get(k).copied().unwrap_or(0);
    let digits = |k: usize| k + bytes[k..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut end = if bytes[i] == b'.' { digits(i + 1) } else { digits(i) };
    if bytes[i] != b'.' && byte(end) == b'.' && byte(end + 1) != b'.' {
        end = digits(end + 1); // `1.5`, `1.`, but `1..n` is `1` then `..`
    }
    if matches!(byte(end), b'e' | b'E') {
        let sign = usize::from(matches!(byte(end + 1), b'+' | b'-'));
        if byte(end + 1 + sign).is_ascii_digit() {
            end = digits(end + 1 + sign);
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Tok, &str)> {
        let tokens = tokens(src).unwrap();
        tokens.iter().map(|t| (t.tok, &src[t.start..t.end])).collect()
    }

    #[test]
    fn numbers_read_as_the_grammar_reads_them() {
        use Tok::*;
        assert_eq!(
            kinds("1..n 1. .5 1e-3 2E+4 1.e5 1e"),
            [
                (Number, "1"),
                (DotDot, ".."),
                (Name, "n"),
                (Number, "1."),
                (Number, ".5"),
                (Number, "1e-3"),
                (Number, "2E+4"),
                (Number, "1.e5"),
                (Number, "1"),
                (Name, "e"),
                (End, "")
            ]
        );
        assert_eq!(kinds("1...5")[..3], [(Number, "1"), (DotDot, ".."), (Number, ".5")]);
    }

    #[test]
    fn blanks_and_comments_are_skipped_and_lines_kept() {
        use Tok::*;
        assert_eq!(
            kinds("x ** 2 # note (\n;y^\t2\r"),
            [
                (Name, "x"),
                (Caret, "**"),
                (Number, "2"),
                (Newline, "\n"),
                (Semicolon, ";"),
                (Name, "y"),
                (Caret, "^"),
                (Number, "2"),
                (End, "")
            ]
        );
    }

    #[test]
    fn a_byte_without_a_token_stops_lexing() {
        for src in ["x % 2", "x . y", "\u{3b1}", "x != 2", "1 & 2"] {
            assert!(tokens(src).is_none(), "{src}");
        }
    }
}
