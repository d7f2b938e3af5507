//! Lowering of indexed forms and builders: an indexed sum is the very nodes of the same sum
//! written out term by term, each term remembers where its body was written, and index
//! names are in scope exactly in their body and inner ranges.

use chainrule::graph::lower::{lower, Lowered};
use chainrule::graph::{walk, Func};
use chainrule::{eval, syntax, Formula, Graph, Span};

/// Lowers `source` into `g`.
fn lower_into(g: &mut Graph, source: &str) -> Lowered {
    let program = syntax::parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    lower(g, &program).unwrap_or_else(|e| panic!("{source}: {e}"))
}

/// `body` (with `{i}` for the index) at the index `k` (in brackets: `-{i}` is `-(k)`).
fn term(body: &str, k: usize) -> String {
    body.replace("{i}", &format!("({k})"))
}

/// The scalar value of `source` with every variable at `at`.
fn value(source: &str, at: f64) -> f64 {
    let f = Formula::parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let point = vec![at; f.var_ids().len()];
    eval::evaluate(f.graph(), &[f.root()], f.var_ids(), &point).unwrap()[0]
}

#[test]
fn an_indexed_sum_is_the_node_of_the_sum_written_out() {
    // Up to 32 terms a sum is one left-to-right chain, as `+` writes it.
    let bodies = [
        "exp(x[{i}])",
        "x[{i}]*x[{i}]",
        "sin({i}*x[{i}] - 1)",
        "x[{i}]^{i} / (1 + x[{i}])",
        "-{i}*x[{i}]",
    ];
    for body in bodies {
        for n in [1, 2, 7, 20] {
            let mut g = Graph::new();
            let indexed = format!("x: [{n}]\nsum(i = 1..{n}, {})", body.replace("{i}", "i"));
            let indexed = lower_into(&mut g, &indexed);
            let terms: Vec<String> = (1..=n).map(|k| term(body, k)).collect();
            let written = format!("x: [{n}]\n{}", terms.join(" + "));
            let by_hand = lower_into(&mut g, &written);
            assert_eq!(indexed.root, by_hand.root, "{body} over 1..{n}");
            assert_eq!(indexed.vars, by_hand.vars, "{body} over 1..{n}");
        }
    }
}

#[test]
fn an_indexed_sum_builds_the_same_graph_each_time() {
    let source = "x: [40]\nm = max(i = 1..40, x[i])\nsum(i = 1..40, i*(x[i] - m)^2)";
    let (mut a, mut b) = (Graph::new(), Graph::new());
    let (first, second) = (lower_into(&mut a, source), lower_into(&mut b, source));
    assert_eq!(a.len(), b.len());
    assert_eq!(first.root, second.root);
    let reachable = walk::reachable(&a, &[first.root]);
    assert!(reachable.len() > 120, "40 terms and their maximum: {} nodes", reachable.len());
    for n in reachable {
        assert_eq!(a.node(n), b.node(n));
    }
}

#[test]
fn each_term_remembers_where_its_body_was_written() {
    let source = "x: [3]\nsum(i = 1..3, exp(x[i]))";
    let mut g = Graph::new();
    let lowered = lower_into(&mut g, source);
    let body = source.find("exp(x[i])").unwrap();
    for k in 1..=3 {
        let x = g.find_var(&format!("x[{k}]")).unwrap();
        assert_eq!(
            lowered.origins.get(x),
            Some(Span::new(0, 1)),
            "x[{k}] is written where x is declared"
        );
        let exp = g.func(Func::Exp, &[x]);
        assert_eq!(lowered.origins.get(exp), Some(Span::new(body, body + "exp(x[i])".len())));
    }
    let whole = source.find("sum").unwrap();
    assert_eq!(lowered.origins.get(lowered.root), Some(Span::new(whole, source.len())));
}

#[test]
fn index_names_are_in_scope_in_their_body_and_inner_ranges_only() {
    // i = 1: 1 + 2 + 3, i = 2: 4 + 6, i = 3: 9
    assert_eq!(value("sum(i = 1..3, sum(j = i..3, i*j))", 0.0), 25.0);
    // a parameter named like the index is the argument, not the index
    assert_eq!(value("f(i) = 2*i\nsum(i = 1..3, f(i + 1))", 0.0), 18.0);
    // an inner range of the same body sees the outer index at each of its values
    assert_eq!(value("sum(i = 1..3, prod(j = 1..i, 2))", 0.0), 14.0);
    // [[1, 2, 3], [2, 4, 6]] summed
    assert_eq!(value("sum([i*j for i = 1..2, j = 1..3])", 0.0), 18.0);
    // two sums one after the other: the second's index starts afresh
    assert_eq!(value("sum(i = 1..3, i) + sum(i = 2..3, x*i)", 2.0), 16.0);
    // after its sum, the index name is a plain variable again
    let f = Formula::parse("sum(i = 1..3, i) + i").unwrap();
    assert_eq!(f.var_names(), ["i"]);
    let error = Formula::parse("x: [3]\nsum(i = 1..3, x[i]) + x[i]").unwrap_err();
    assert!(error.to_string().contains("index"), "{error}");
}

#[test]
fn an_error_at_a_later_index_is_the_same_as_before() {
    // x[i + 1] runs out of range at the last index only
    let error = Formula::parse("x: [3]\nsum(i = 1..3, x[i + 1])").unwrap_err();
    let text = error.to_string();
    assert!(text.contains("index 4 is out of range"), "{text}");
}

#[test]
fn ln_of_an_indexed_sum_of_exps_is_what_ln_of_the_sum_gives() {
    // Lowering finds the logsumexp without adding the terms up; it must be the very node
    // that `ln` of the added terms gives, whatever the terms (exps in either order, alike,
    // constant, not exps at all) and however many runs of additions they fill.
    let bodies = [
        "exp(x[i])",
        "exp(x[{last} - i])",
        "e^(2*x[i] - x[1])",
        "exp(x[1])",
        "exp(i)",
        "exp(x[i]) + 1",
        "x[i]",
        "exp([x[i], 2*x[i]])",
    ];
    for body in bodies {
        for n in [1, 2, 3, 32, 33, 34, 65, 100] {
            let body = body.replace("{last}", &(n + 1).to_string());
            let mut g = Graph::new();
            let sum = lower_into(&mut g, &format!("x: [{n}]\nsum(i = 1..{n}, {body})"));
            for log in ["log", "ln"] {
                let source = format!("x: [{n}]\n{log}(sum(i = 1..{n}, {body}))");
                let lowered = lower_into(&mut g, &source);
                let expected: Vec<_> =
                    sum.result.elems.iter().map(|&s| g.func(Func::Ln, &[s])).collect();
                assert_eq!(&lowered.result.elems[..], &expected[..], "{source}");
            }
        }
    }
}
