//! The fast parser agrees with pest. On every text below, `parse_fast` gives exactly the
//! pest path's answer (tree, spans and all) or declines, and it declines only where pest
//! reports an error: it never accepts what pest refuses, never refuses what pest accepts.
//! The texts: the corpus and every formula file of the repository, the string literals of
//! the command line's tests, the fuzzers' corpora, grammar-shaped random programs, random
//! token soups and random edits of all of those.

use chainrule::syntax::{parse_fast, parse_with_pest};
use chainrule::ParseOptions;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;

/// How many texts pest accepted and refused.
#[derive(Default, Debug)]
struct Tally {
    accepted: usize,
    refused: usize,
}

impl Tally {
    /// Checks that both parsers agree on `src`.
    fn agree(&mut self, src: &str) {
        let options = ParseOptions::default();
        let pest = parse_with_pest(src, options);
        match parse_fast(src, options) {
            Some(fast) => assert!(fast == pest, "the two parsers differ on {src:?}"),
            None => assert!(pest.is_err(), "the fast parser declined {src:?}, which pest parses"),
        }
        match pest {
            Ok(_) => self.accepted += 1,
            Err(_) => self.refused += 1,
        }
    }

    /// Checks `src` and `edits` random edits of it (one edit of a long text).
    fn agree_with_edits(&mut self, src: &str, edits: usize, rng: &mut StdRng) {
        self.agree(src);
        for _ in 0..if src.len() > 10_000 { 1 } else { edits } {
            self.agree(&mutate(src, rng));
        }
    }
}

/// Runs `f` on a thread with a stack deep enough to compare (recursively) trees nested as
/// deep as the parser allows.
fn on_a_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let thread = std::thread::Builder::new().stack_size(1 << 30).spawn(f).unwrap();
    thread.join().unwrap()
}

fn repository() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Every file under `dir` (recursively) whose name ends in one of `endings`.
fn files(dir: &Path, endings: &[&str]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for path in entries.map(|e| e.unwrap().path()) {
            if path.is_dir() {
                todo.push(path);
            } else if endings.iter().any(|end| path.to_string_lossy().ends_with(end)) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The candidate formulas of a text file: the whole file, each line and each `|` field.
fn texts_of_file(text: &str) -> Vec<String> {
    let mut out = vec![text.to_string()];
    for line in text.lines() {
        out.push(line.to_string());
        out.extend(line.split('|').map(|field| field.trim().to_string()));
    }
    out
}

/// Every string of a JSON value, and the corpus's `expr_parts` put together.
fn strings_of_json(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings_of_json(v, out)),
        serde_json::Value::Object(map) => {
            if let Some(parts) = map.get("expr_parts").and_then(|p| p.as_array()) {
                let part = |p: &serde_json::Value| {
                    p[0].as_str().unwrap().repeat(p[1].as_u64().unwrap() as usize)
                };
                out.push(parts.iter().map(part).collect());
            }
            map.values().for_each(|v| strings_of_json(v, out));
        }
        _ => {}
    }
}

/// The contents of the string literals of Rust source (escapes `\n`, `\t`, `\"`, `\\`).
fn string_literals(rust: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = rust.chars();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.clone().next() == Some('/') => {
                chars.by_ref().find(|&c| c == '\n');
            }
            '\'' => {
                // a char literal ('"', '\'') or a lifetime: skip what could hide a quote
                let rest = chars.as_str();
                if rest.starts_with("\\'") || rest.starts_with("\"'") {
                    chars.nth(1);
                }
            }
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some('\n') => {
                                let rest = chars.as_str().trim_start();
                                chars = rest.chars();
                            }
                            Some(other) => s.push(other),
                            None => {}
                        },
                        c => s.push(c),
                    }
                }
                out.push(s);
            }
            _ => {}
        }
    }
    out
}

/// Every formula of the repository that is cheap to reach.
fn repository_texts() -> Vec<String> {
    let root = repository();
    let mut out = Vec::new();
    for path in files(&root.join("tests"), &[".jsonl"]) {
        for line in std::fs::read_to_string(path).unwrap().lines() {
            strings_of_json(&serde_json::from_str(line).unwrap(), &mut out);
        }
    }
    for path in files(&root.join("tests"), &[".txt", ".expr"]) {
        out.extend(texts_of_file(&std::fs::read_to_string(path).unwrap()));
    }
    for path in files(&root.join("tests"), &[".rs"]) {
        out.extend(string_literals(&std::fs::read_to_string(path).unwrap()));
    }
    for path in files(&root.join("examples"), &[".txt", ".expr"]) {
        out.extend(texts_of_file(&std::fs::read_to_string(path).unwrap()));
    }
    out
}

/// The fuzzers' corpora: inputs that once reached new code in the parser and beyond.
fn fuzz_texts() -> Vec<String> {
    let files = files(&repository().join("fuzz/corpus"), &[""]);
    files.iter().filter_map(|path| String::from_utf8(std::fs::read(path).ok()?).ok()).collect()
}

#[test]
fn the_corpus_and_the_repository_formulas_agree() {
    on_a_big_stack(|| {
        let mut rng = StdRng::seed_from_u64(1);
        let mut tally = Tally::default();
        let mut corpus = Vec::new();
        let text = std::fs::read_to_string(repository().join("tests/cases/corpus.jsonl")).unwrap();
        for line in text.lines() {
            strings_of_json(&serde_json::from_str(line).unwrap(), &mut corpus);
        }
        for src in &corpus {
            tally.agree_with_edits(src, 10, &mut rng);
        }
        for src in repository_texts() {
            tally.agree_with_edits(&src, 2, &mut rng);
        }
        assert!(tally.accepted > 3_000 && tally.refused > 3_000, "{tally:?}");
    })
}

#[test]
fn the_fuzz_corpora_agree() {
    on_a_big_stack(|| {
        let mut rng = StdRng::seed_from_u64(2);
        let mut tally = Tally::default();
        let texts = fuzz_texts();
        assert!(texts.len() > 1_000, "the fuzz corpora are missing");
        for src in &texts {
            tally.agree_with_edits(src, 1, &mut rng);
        }
        assert!(tally.accepted > 1_000 && tally.refused > 1_000, "{tally:?}");
    })
}

#[test]
fn random_programs_and_token_soups_agree() {
    on_a_big_stack(|| {
        let mut rng = StdRng::seed_from_u64(3);
        let mut tally = Tally::default();
        for _ in 0..6_000 {
            let src = program(&mut rng);
            tally.agree_with_edits(&src, 3, &mut rng);
        }
        for _ in 0..20_000 {
            let n = rng.random_range(1..16);
            let src: String = (0..n).map(|_| pick(&mut rng, SNIPPETS)).collect();
            tally.agree(&src);
        }
        assert!(tally.accepted > 5_000 && tally.refused > 10_000, "{tally:?}");
    })
}

#[test]
fn the_fast_parser_takes_the_common_shapes() {
    let sum: Vec<String> = (0..200).map(|k| format!("sin({}.25*x - 0.{k})", k % 3)).collect();
    let layer = |j: usize| {
        let terms: Vec<String> = (1..=20).map(|i| format!("w_{i}_{j}*x{i}")).collect();
        format!("h_{j} = sigmoid({} + b_{j})", terms.join(" + "))
    };
    let layers: Vec<String> = (1..=8).map(layer).collect();
    let out: Vec<String> = (1..=8).map(|j| format!("v_{j}*h_{j}")).collect();
    let rosen: Vec<String> =
        (1..100).map(|i| format!("100*(x{} - x{i}^2)^2 + (1 - x{i})^2", i + 1)).collect();
    let common = [
        format!("# a sum of sines\n{}\n", sum.join(" + ")),
        format!(
            "# a small net\n{}\nout = sigmoid({} + c)\nloss = bce(out, y)\n",
            layers.join("\n"),
            out.join(" + ")
        ),
        format!("# rosenbrock\n{}", rosen.join(" + ")),
        "x: [160]\nlog(sum(i = 1..160, exp(x[i])))".to_string(),
        "W: [3, 2]; v: [2]\nf(a, b) = a*b^-2\nz = [W[i, :] @ v for i = 1..3]\nf(z[1], -z[2]) + 1e-3"
            .to_string(),
    ];
    for src in &common {
        let fast = parse_fast(src, ParseOptions::default());
        assert!(matches!(fast, Some(Ok(_))), "the fast parser declined {src:?}");
        assert!(fast.unwrap() == parse_with_pest(src, ParseOptions::default()), "{src:?}");
    }
}

#[test]
fn deep_nesting_is_parsed_on_a_small_stack_by_both() {
    let cases = [
        format!("{}y*2{}", "(".repeat(9_000), ")".repeat(9_000)),
        format!("{}y*2{}", "[".repeat(9_000), "]".repeat(9_000)),
        format!("{}x", "-".repeat(9_000)),
        format!("{}x", "2^".repeat(9_000)),
        format!("x{}", "[1]".repeat(4_000)),
        format!("{}x{}", "sin(".repeat(9_000), ")".repeat(9_000)),
        format!("{}x", "(".repeat(100_000)),
    ];
    // Test threads have small stacks: both parsers grow their own.
    let parse = move || {
        let both = |src: &String| {
            let options = ParseOptions::default();
            (parse_fast(src, options), parse_with_pest(src, options))
        };
        cases.iter().map(both).collect::<Vec<_>>()
    };
    let small = std::thread::Builder::new().stack_size(256 * 1024).spawn(parse).unwrap();
    let answers = small.join().unwrap();
    let accepted = on_a_big_stack(move || {
        for (fast, pest) in &answers {
            assert!(fast.as_ref() == Some(pest), "the two parsers differ");
        }
        answers.iter().filter(|(_, pest)| pest.is_ok()).count()
    });
    assert_eq!(accepted, 6);
}

/// Pieces of text, valid and not, for token soups and edits.
const SNIPPETS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    ",",
    "\n",
    "\r\n",
    "#c\n",
    ";",
    ":",
    "=",
    "..",
    ".",
    "1.",
    ".5",
    "1e-3",
    "2E+4",
    "1.e2",
    "1e",
    "1e999",
    "1..n",
    "for ",
    "for",
    " ",
    "\t",
    "+",
    "-",
    "*",
    "**",
    "^",
    "/",
    "@",
    "x",
    "y",
    "i",
    "_a1",
    "sum",
    "sin",
    "f",
    "e",
    "0",
    "7",
    "\u{e9}",
    "\u{2212}",
    "%",
    "!",
    "x[1]",
    "[1, 2]",
    "(x)",
    "i = 1..3",
    "sum(i = 1..2, x[i])",
    " = ",
    "'",
    "\"",
];

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// `src` with one to three random edits: a deletion, an insertion of a snippet, a doubled
/// or a swapped character.
fn mutate(src: &str, rng: &mut StdRng) -> String {
    let mut chars: Vec<char> = src.chars().collect();
    for _ in 0..rng.random_range(1..=3) {
        let at = rng.random_range(0..=chars.len());
        match rng.random_range(0..4) {
            0 if at < chars.len() => {
                let end = (at + rng.random_range(1..=3)).min(chars.len());
                chars.drain(at..end);
            }
            1 if at < chars.len() => chars.insert(at, chars[at]),
            2 if at + 1 < chars.len() => chars.swap(at, at + 1),
            _ => {
                let snippet = pick(rng, SNIPPETS);
                chars.splice(at..at, snippet.chars());
            }
        }
    }
    chars.into_iter().collect()
}

/// A random program shaped by the grammar: one to four statements of every form.
fn program(rng: &mut StdRng) -> String {
    let mut out = String::from(pick(rng, &["", "\n", ";", "# head\n", " "]));
    for i in 0..rng.random_range(1..=4) {
        if i > 0 {
            out.push_str(pick(rng, &["\n", ";", "\n\n", " ; ", "\n# note\n"]));
        }
        match rng.random_range(0..6) {
            0 => out.push_str(&format!("a{i} = {}", expr(rng, 3))),
            1 => out.push_str(&format!("f{i}(u, v) = {}", expr(rng, 3))),
            2 => out.push_str(&format!("W{i}: [{}, 2]", pick(rng, &["3", "1", "2 + 1", "n"]))),
            _ => out.push_str(&expr(rng, 3)),
        }
    }
    out.push_str(pick(rng, &["", "\n", ";", " # tail", "\n\n"]));
    out
}

/// A random expression, nested at most `depth` levels more.
fn expr(rng: &mut StdRng, depth: u32) -> String {
    let mut out = String::new();
    for _ in 0..rng.random_range(0..3).min(rng.random_range(0..3)) {
        out.push_str(pick(rng, &["-", "+", "- "]));
    }
    out.push_str(&operand(rng, depth));
    for _ in 0..rng.random_range(0..4) {
        let op = pick(rng, &[" + ", " - ", "*", "/", "^", "**", " @ ", "-", "+"]);
        let after = pick(rng, &["", "", "", "\n", " # c\n", "-", "+"]);
        out.push_str(&format!("{op}{after}{}", operand(rng, depth)));
    }
    out
}

/// A random operand: a number, a name, a call, a list, a builder, a parenthesis, indexed.
fn operand(rng: &mut StdRng, depth: u32) -> String {
    let nl = |rng: &mut StdRng| pick(rng, &["", "", "", "\n", " "]);
    let deeper = depth > 0 && rng.random_bool(0.5);
    let mut out = match (deeper, rng.random_range(0..6)) {
        (true, 0) => format!("({}{}{})", nl(rng), expr(rng, depth - 1), nl(rng)),
        (true, 1) => {
            let f = pick(rng, &["sin", "exp", "max", "pow", "f1", "log"]);
            let args: Vec<String> =
                (0..rng.random_range(0..3)).map(|_| expr(rng, depth - 1)).collect();
            format!("{f}({}{}{})", nl(rng), args.join(&format!(",{}", nl(rng))), nl(rng))
        }
        (true, 2) => {
            let f = pick(rng, &["sum", "prod", "max"]);
            format!("{f}(i = 1..{}, {})", pick(rng, &["3", "n", "2 + 1"]), expr(rng, depth - 1))
        }
        (true, 3) => {
            let items: Vec<String> =
                (0..rng.random_range(0..4)).map(|_| expr(rng, depth - 1)).collect();
            format!("[{}{}]", nl(rng), items.join(&format!(", {}", nl(rng))))
        }
        (true, 4) => {
            let body = expr(rng, depth - 1);
            let second = pick(rng, &["", ", j = 1..2", ",\nj = 0..1"]);
            format!("[{body} for i = 1..{}{second}{}]", pick(rng, &["3", "n"]), nl(rng))
        }
        _ => pick(rng, &["x", "y", "w_1", "2", "0.5", "1.", ".25", "1e-3", "3E2", "pi", "for"])
            .to_string(),
    };
    if rng.random_bool(0.15) {
        let sub = pick(rng, &["[1]", "[i, :]", "[1][2]", "[:, j + 1]", "[\n1 ,\n2\n]"]);
        out.push_str(sub);
    }
    out
}

/// The fast path reads its tokens where it stands and reads a call whose first argument is
/// no range straight into the call: a byte that starts no token after a whole formula, and
/// a range after an expression in a call, are still declined (pest explains them), and
/// ranges after a line break and plain calls over several lines are still taken.
#[test]
fn late_bad_bytes_and_late_ranges_are_declined() {
    let options = ParseOptions::default();
    for src in ["x + 1 $", "x + 1\n\u{3b1}", "sin(x) + f(x, i = 1..3)", "y = 2\nz = y % 3"] {
        assert!(parse_fast(src, options).is_none(), "the fast path took {src:?}");
        assert!(parse_with_pest(src, options).is_err(), "pest took {src:?}");
    }
    for src in ["sum(\n i = 1..3, x)", "sin(\n x\n) + atan2(x,\n 1)", "f(a, b) = a + b\nf(1, 2)"] {
        let fast = parse_fast(src, options).expect("the fast path takes it");
        assert!(fast.is_ok(), "{src:?}");
        assert!(fast == parse_with_pest(src, options), "the two parsers differ on {src:?}");
    }
}
