//! Snapshots of printed derivatives (text and LaTeX) over the case files in
//! tests/cases/derivatives, through the public harness `chainrule::testing`: each line is
//! `formula | variables [| order]`, and every printed derivative is also checked
//! numerically, so a snapshot can only record a right answer.

#[test]
fn derivative_snapshots() {
    insta::glob!("cases/derivatives/*.txt", |path| {
        let cases = std::fs::read_to_string(path).unwrap();
        let report = chainrule::testing::snapshot(&cases).unwrap_or_else(|e| panic!("{e}"));
        insta::assert_snapshot!(report);
    });
}

#[test]
fn the_readme_shows_tests_my_formulas() {
    let readme = include_str!("../README.md");
    assert!(readme.contains(include_str!("my_formulas.rs")), "README out of date");
}
