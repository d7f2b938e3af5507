//! Hostile input never hurts: the fuzzers' findings as regression cases, every limit
//! refusing cleanly with a way to raise it, very large valid input working, and files
//! written atomically.

mod common;

use chainrule::eval::compile;
use chainrule::{ErrorKind, Formula, ParseOptions};
use common::chainrule_with_stdin as chainrule;

#[test]
fn fuzz_findings_stay_fixed() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases/fuzz"));
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let src = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        chainrule::check::round_trip(&src, 500_000).unwrap();
        count += 1;
    }
    assert!(count >= 2);
}

#[test]
fn a_power_of_zero_keeps_its_form() {
    // 0^-1526 is infinite, so it stays unfolded; printing it as 1/0^1526 would read back
    // as 1/0, another node (found by the pipeline fuzzer).
    let mut f = Formula::parse("mse([y], [y])^-1526").unwrap();
    let s = f.simplified().unwrap();
    assert_eq!(f.text(s), "0^-1526");
}

#[test]
fn fused_division_is_the_accurate_one() {
    // -x/x at 1.9: a / b gives exactly -1 where a * (1/b) gives -0.9999999999999999, and
    // acos amplifies the difference (found by the pipeline fuzzer).
    let f = Formula::parse("acos(-x/x)").unwrap();
    let tape = compile(f.graph(), &[f.root()], f.var_ids()).unwrap();
    assert_eq!(tape.run(&[1.9f64], &mut Vec::new())[0], std::f64::consts::PI);
}

#[test]
fn a_ten_megabyte_sum_works() {
    let mut text = String::with_capacity(10_100_000);
    let mut i = 0u64;
    while text.len() < 10_000_000 {
        let var = ["x", "y", "z"][(i % 3) as usize];
        text.push_str(&format!("{}*{var}^{} + ", (i % 997) as f64 / 8.0, i % 9 + 1));
        i += 1;
    }
    text.push('1');
    let start = std::time::Instant::now();
    let (status, out, err) =
        chainrule(&["eval", "-", "--at", "x=0.5,y=0.25,z=0.75", "--grad", "--json"], &text);
    assert_eq!(status, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["gradient"]["x"].as_f64().unwrap() > 0.0);
    println!("10 MB formula with its gradient in {:?}", start.elapsed());
}

#[test]
fn the_node_limit_stops_high_orders_cleanly() {
    let (status, _, err) = chainrule(
        &[
            "diff",
            "sin(x)*exp(x)*tanh(x*y)/(1 + x^2)",
            "--wrt",
            "x",
            "--order",
            "20",
            "--node-limit",
            "200000",
        ],
        "",
    );
    assert_eq!(status, 1);
    assert!(err.contains("the graph would exceed the limit of 200000 nodes"), "{err}");
    assert!(err.contains("--node-limit"), "{err}");
    let mut f = Formula::parse("sin(x)*exp(x)*tanh(x*y)/(1 + x^2)").unwrap();
    f.graph_mut().set_node_limit(50_000);
    assert!(matches!(
        f.derivative("x", 20).unwrap_err().kind,
        ErrorKind::TooManyNodes { limit: 50_000 }
    ));
}

#[test]
fn an_enormous_printed_text_points_to_cse() {
    let args = ["diff", "sin(x)*exp(x)*tanh(x*y)/(1 + x^2)", "--wrt", "x", "--order", "12"];
    let (status, _, err) = chainrule(&args, "");
    assert_eq!(status, 1);
    assert!(err.contains("would be about") && err.contains("--cse"), "{err}");
    let mut with_cse = args.to_vec();
    with_cse.push("--cse");
    let (status, out, _) = chainrule(&with_cse, "");
    assert_eq!(status, 0);
    assert!(out.len() < 2_000_000 && out.lines().last().unwrap().starts_with("d12/dx12 = "));
}

#[test]
fn huge_exponents_do_not_hang() {
    let (status, out, err) = chainrule(&["eval", "10^10^10", "--json"], "");
    assert_eq!(status, 1);
    assert_eq!(out.trim(), r#"{"value":"inf"}"#);
    assert!(err.contains("`10^10000000000` gives inf"), "{err}");
    let (status, out, _) = chainrule(&["diff", "x^(10^10^10)", "--wrt", "x"], "");
    assert_eq!(status, 0);
    assert!(out.starts_with("d/dx = "), "{out}");
}

#[test]
fn the_size_and_depth_limits_can_be_raised() {
    let error =
        Formula::parse_with("x + 1", ParseOptions { max_bytes: 3, ..ParseOptions::default() })
            .unwrap_err();
    assert_eq!(error.kind, ErrorKind::TooLarge { size: 5, limit: 3 });
    assert!(error.hint.unwrap().contains("ParseOptions::max_bytes"));
    let (status, _, err) = chainrule(&["diff", "x + 1", "--wrt", "x", "--max-bytes", "3"], "");
    assert_eq!(status, 2);
    assert!(err.contains("more than the limit of 3") && err.contains("--max-bytes"), "{err}");
    let deep = format!("{}x{}", "(".repeat(50), ")".repeat(50));
    let error =
        Formula::parse_with(&deep, ParseOptions { max_depth: 20, ..ParseOptions::default() })
            .unwrap_err();
    assert_eq!(error.kind, ErrorKind::TooDeep { limit: 20 });
    assert!(error.hint.unwrap().contains("ParseOptions::max_depth"));
    let (status, _, err) = chainrule(&["diff", &deep, "--wrt", "x", "--max-depth", "20"], "");
    assert_eq!(status, 2);
    assert!(err.contains("--max-depth on the command line"), "{err}");
    let (status, out, _) = chainrule(&["diff", &deep, "--wrt", "x", "--max-depth", "60"], "");
    assert_eq!((status, out.as_str()), (0, "d/dx = 1\n"));
}

#[test]
fn saved_files_are_replaced_atomically() {
    let dir = std::env::temp_dir().join(format!("chainrule-atomic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("d.csv");
    std::fs::write(&data, "x,y\n1,2\n2,4\n").unwrap();
    let saved = dir.join("p.json");
    std::fs::write(&saved, "an older file").unwrap();
    let (status, _, err) = chainrule(
        &[
            "train",
            "(w*x - y)^2",
            "--data",
            data.to_str().unwrap(),
            "--params",
            "w",
            "--epochs",
            "50",
            "--save",
            saved.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(status, 0, "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert!(v["w"].as_f64().is_some());
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "only the data and the saved file remain: {names:?}");
    // A folder that does not exist: a clear error, exit 1, nothing written.
    let (status, _, err) =
        chainrule(&["graph", "x", "-o", dir.join("no/such/g.dot").to_str().unwrap()], "");
    assert_eq!(status, 1);
    assert!(err.contains("cannot write"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}
