//! The tokens of the fast parser ([`super::fast`]): the grammar's numbers, names and
//! symbols, with the blanks and comments that pest skips between them left out. They are
//! read one at a time where the parser stands ([`token_at`]), not into a list of the whole
//! text first. A byte the grammar has no token for is [`Tok::Invalid`], which no rule
//! accepts (pest then explains it).

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
    /// A byte that starts no token.
    Invalid,
}

/// A token and the bytes it covers (as 32-bit offsets: the fast path declines longer
/// texts).
#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    /// What it is.
    pub tok: Tok,
    first: u32,
    past: u32,
}

impl Token {
    fn new(tok: Tok, start: usize, end: usize) -> Token {
        Token { tok, first: start as u32, past: end as u32 }
    }

    /// Its first byte.
    pub fn start(self) -> usize {
        self.first as usize
    }

    /// One past its last byte.
    pub fn end(self) -> usize {
        self.past as usize
    }
}

/// Whether [`token_at`] can read `src` (its offsets fit in 32 bits).
pub(super) fn fits(src: &str) -> bool {
    u32::try_from(src.len()).is_ok()
}

/// The token at byte `at` of `src` or after the blanks and comments there: [`Tok::End`] at
/// the end of the text, [`Tok::Invalid`] (one byte) at a byte that starts no token.
pub(super) fn token_at(src: &str, mut at: usize) -> Token {
    let bytes = src.as_bytes();
    let byte = |k: usize| bytes.get(k).copied().unwrap_or(0);
    while at < bytes.len() {
        let (tok, end) = match bytes[at] {
            b' ' | b'\t' | b'\r' => {
                at += 1;
                continue;
            }
            b'#' => {
                // a comment runs to the end of the line (pest's COMMENT)
                at = src[at..].find('\n').map_or(bytes.len(), |n| at + n);
                continue;
            }
            b'0'..=b'9' => (Tok::Number, number_end(bytes, at)),
            b'.' if byte(at + 1) == b'.' => (Tok::DotDot, at + 2),
            b'.' if byte(at + 1).is_ascii_digit() => (Tok::Number, number_end(bytes, at)),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let len =
                    bytes[at..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_');
                (Tok::Name, at + len.count())
            }
            b'*' if byte(at + 1) == b'*' => (Tok::Caret, at + 2),
            other => (symbol(other).unwrap_or(Tok::Invalid), at + 1),
        };
        return Token::new(tok, at, end);
    }
    Token::new(Tok::End, bytes.len(), bytes.len())
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

    /// The tokens of `src` to its end, `None` at a byte that starts no token.
    fn tokens(src: &str) -> Option<Vec<Token>> {
        let mut out = vec![token_at(src, 0)];
        while !matches!(out[out.len() - 1].tok, Tok::End | Tok::Invalid) {
            out.push(token_at(src, out[out.len() - 1].end()));
        }
        (out[out.len() - 1].tok == Tok::End).then_some(out)
    }

    fn kinds(src: &str) -> Vec<(Tok, &str)> {
        let tokens = tokens(src).unwrap();
        tokens.iter().map(|t| (t.tok, &src[t.start()..t.end()])).collect()
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
