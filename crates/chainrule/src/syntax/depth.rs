//! A one-pass nesting scan that runs before pest. pest and the Pratt parser recurse once per
//! bracket, per right-associative `^`, per prefix sign and per subscript of a chain
//! (`x[1][1]...`), so a hostile input such as 100,000
//! open parentheses would overflow the stack. This scan counts those levels and reports the
//! first place that goes past the limit, with a caret, before any recursion starts.

use crate::error::{Error, ErrorKind, Result, Span};

/// Default limit on nesting: brackets, calls, `^` chains and prefix signs together.
pub const DEFAULT_MAX_DEPTH: usize = 10_000;

/// The deepest nesting in `src`, or an error at the first byte past `limit`.
pub fn check(src: &str, limit: usize) -> Result<usize> {
    // One counter per open bracket level: how many right-nesting operators are pending.
    let mut pending: Vec<usize> = vec![0];
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut after_operand = false;
    let mut in_comment = false;
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_comment {
            in_comment = c != b'\n';
            if c == b'\n' {
                after_operand = false;
                *pending.last_mut().unwrap() = 0;
                depth = pending.len() - 1 + pending.iter().sum::<usize>();
            }
            i += 1;
            continue;
        }
        let mut deeper = false;
        match c {
            b'#' => in_comment = true,
            b'(' | b'[' => {
                if c == b'[' && after_operand {
                    // A subscript, `x[1][2]...`: each one nests the operand before it (the
                    // syntax tree is `Index(Index(x, 1), 2)`), as a chain of `^` does.
                    *pending.last_mut().unwrap() += 1;
                    depth += 1;
                }
                pending.push(0);
                deeper = true;
                after_operand = false;
            }
            b')' | b']' => {
                if pending.len() > 1 {
                    let top = pending.pop().unwrap();
                    depth -= top + 1;
                }
                after_operand = true;
            }
            b'^' => {
                *pending.last_mut().unwrap() += 1;
                deeper = true;
                after_operand = false;
            }
            b'*' if bytes.get(i + 1) == Some(&b'*') => {
                *pending.last_mut().unwrap() += 1;
                deeper = true;
                after_operand = false;
                i += 1;
            }
            b'+' | b'-' if !after_operand => {
                *pending.last_mut().unwrap() += 1;
                deeper = true;
            }
            b'+' | b'-' | b'*' | b'/' | b',' | b';' | b'\n' | b'=' | b'@' => {
                let top = pending.last_mut().unwrap();
                depth -= *top;
                *top = 0;
                after_operand = false;
            }
            b' ' | b'\t' | b'\r' => {}
            _ => {
                // Digits, letters, '.', and anything pest will reject itself.
                after_operand = true;
                let exponent_sign = matches!(c, b'e' | b'E')
                    && number_before(bytes, i)
                    && matches!(bytes.get(i + 1), Some(b'+' | b'-'));
                if exponent_sign {
                    i += 2; // "1e-3": the sign belongs to the number
                    continue;
                }
            }
        }
        if deeper {
            depth += 1;
            deepest = deepest.max(depth);
            if depth > limit {
                let span = Span::new(i, i + 1);
                return Err(Error::at(ErrorKind::TooDeep { limit }, span).with_hint(
                    "simplify the nesting, or raise the limit (ParseOptions::max_depth)",
                ));
            }
        }
        i += 1;
    }
    Ok(deepest)
}

/// True when the `e` at `i` ends a run of digits/dot that starts a number.
fn number_before(bytes: &[u8], i: usize) -> bool {
    let mut j = i;
    while j > 0 && (bytes[j - 1].is_ascii_digit() || bytes[j - 1] == b'.') {
        j -= 1;
    }
    j < i && (j == 0 || !(bytes[j - 1].is_ascii_alphanumeric() || bytes[j - 1] == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_brackets_powers_and_signs() {
        assert_eq!(check("x", 10).unwrap(), 0);
        assert_eq!(check("((x))", 10).unwrap(), 2);
        assert_eq!(check("2^2^2", 10).unwrap(), 2);
        assert_eq!(check("a*b + c - d", 10).unwrap(), 0);
        assert_eq!(check("--x", 10).unwrap(), 2);
        assert_eq!(check("1e-3 + x", 10).unwrap(), 0);
        assert_eq!(check("sin(cos(x))^2", 10).unwrap(), 2);
        assert_eq!(check("x[1]", 10).unwrap(), 2);
        assert_eq!(check("x[1][2][3]", 10).unwrap(), 4);
        assert_eq!(check("x[1] @ W[1, :] @ y[2]", 10).unwrap(), 2);
        assert_eq!(check("[x[1], x[2]]", 10).unwrap(), 3);
    }

    #[test]
    fn a_chain_of_subscripts_is_nesting() {
        let src = format!("x[1]{}", "[1]".repeat(100_000));
        assert!(check(&src, 1000).is_err());
        let src = format!("x[1]{}", " @ x[1]".repeat(100_000));
        assert_eq!(check(&src, 1000).unwrap(), 2);
    }

    #[test]
    fn reports_the_first_bracket_past_the_limit() {
        let src = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
        let err = check(&src, 1000).unwrap_err();
        assert_eq!(err.span, Some(Span::new(1000, 1001)));
    }
}
