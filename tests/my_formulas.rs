//! Snapshot tests of formulas, the way a user of the library writes them (the README shows
//! this file): every case file in tests/formulas, printed and checked numerically.

#[test]
fn my_formulas() {
    insta::glob!("formulas/*.txt", |path| {
        let cases = std::fs::read_to_string(path).unwrap();
        let printed = chainrule::testing::snapshot(&cases).unwrap_or_else(|e| panic!("{e}"));
        insta::assert_snapshot!(printed);
    });
}
