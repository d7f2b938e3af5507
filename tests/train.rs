//! Training: the XOR net (written with arrays, and with every weight spelled out) learns with
//! every optimizer and from (almost) every seed, the gradient it uses matches finite
//! differences of the mean loss, runs are deterministic, --save/--init continue with
//! arrays as nested lists, a diverging run stops naming the parameter that went bad, and
//! the spiral classifier reaches 95% accuracy.

mod common;

use chainrule::eval::data::{read_csv, Table};
use chainrule::train::{self, Model, Optimizer, TrainOptions, Trained};
use chainrule::Formula;
use common::{chainrule, chainrule_with_stdin};
use std::path::Path;

const XOR_MODEL: &str = include_str!("../examples/xor/model.expr");
const XOR_SCALAR: &str = include_str!("../examples/xor/model-scalar.expr");

fn xor_data() -> Table {
    read_csv(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/xor/xor.csv"))).unwrap()
}

fn xor_params(f: &Formula) -> Vec<String> {
    train::select_params(&f.var_names(), &["W1", "b1", "v", "c"]).unwrap()
}

fn train_xor(optimizer: Optimizer, lr: f64, epochs: usize) -> (Vec<String>, Trained) {
    let mut f = Formula::parse(XOR_MODEL).unwrap();
    let data = xor_data();
    let params = xor_params(&f);
    let start = train::initial_params(&f, &params, 0);
    let model = Model::new(&mut f, &params, &data).unwrap();
    let options = TrainOptions { lr, epochs, batch_size: None, optimizer, seed: 0 };
    let trained = train::train(&model, &data, &start, &options, |_, _| {}).unwrap();
    (params, trained)
}

/// The network's output for each XOR row, at the trained parameters.
fn predictions(params: &[String], values: &[f64]) -> Vec<f64> {
    let predict = Formula::parse(&format!("{XOR_MODEL}\nout")).unwrap();
    let data = xor_data();
    (0..4)
        .map(|row| {
            let inputs: Vec<f64> = predict
                .vars()
                .map(|v| match params.iter().position(|p| *p == v.name) {
                    Some(i) => values[i],
                    None => data.column(&v.name).map_or(0.0, |c| c[row]),
                })
                .collect();
            predict.compile(&[predict.root()]).unwrap().run(&inputs, &mut Vec::new())[0]
        })
        .collect()
}

fn assert_learned(name: &str, params: &[String], trained: &Trained) {
    assert!(trained.loss < 0.01, "{name}: loss {}", trained.loss);
    let p = predictions(params, &trained.params);
    assert!(p[0] < 0.5 && p[1] > 0.5 && p[2] > 0.5 && p[3] < 0.5, "{name}: {p:?}");
}

#[test]
fn adam_learns_xor_within_2000_epochs() {
    let (params, trained) = train_xor(Optimizer::adam(), 0.1, 2000);
    assert_learned("adam", &params, &trained);
}

#[test]
fn momentum_learns_xor() {
    let (params, trained) = train_xor(Optimizer::momentum(), 0.5, 3000);
    assert_learned("momentum", &params, &trained);
}

#[test]
fn sgd_learns_xor() {
    let (params, trained) = train_xor(Optimizer::Sgd, 2.0, 5000);
    assert_learned("sgd", &params, &trained);
}

#[test]
fn the_starting_weights_are_glorot_and_biases_zero() {
    let f = Formula::parse(XOR_MODEL).unwrap();
    let params = xor_params(&f);
    assert_eq!(params.len(), 4 * 2 + 4 + 4 + 1);
    let start = train::initial_params(&f, &params, 0);
    for (p, v) in params.iter().zip(&start) {
        if p.starts_with('b') || p == "c" {
            assert_eq!(*v, 0.0, "{p}");
        } else {
            // W1: 2 inputs, 4 units: sqrt(6/6); v: 4 inputs, 1 output: sqrt(6/5)
            let limit = if p.starts_with("W1") { 1.0 } else { 1.2f64.sqrt() };
            assert!(v.abs() <= limit && *v != 0.0, "{p} = {v}");
        }
    }
    assert_eq!(start, train::initial_params(&f, &params, 0), "a seed fixes them");
    assert_ne!(start, train::initial_params(&f, &params, 1));
    // The fans are read off the formula's graph: the scalar spelling gets the same limits,
    // and so it does after its gradient is built (the CLI derives first).
    let mut scalar = Formula::parse(XOR_SCALAR).unwrap();
    let names = train::select_params(&scalar.var_names(), &["w*", "b*", "v*", "c"]).unwrap();
    let before = train::initial_params(&scalar, &names, 4);
    scalar.gradient(&names).unwrap();
    assert_eq!(before, train::initial_params(&scalar, &names, 4));
    for (p, v) in names.iter().zip(&before) {
        let limit = if p.starts_with('w') { 1.0 } else { 1.2f64.sqrt() };
        match p.starts_with('b') || p == "c" {
            true => assert_eq!(*v, 0.0, "{p}"),
            false => assert!(v.abs() <= limit && *v != 0.0, "{p} = {v}"),
        }
    }
    // the spiral net: W1 2 in 16 out, W2 16 and 16, W3 16 in 3 out
    let spiral = Formula::parse(SPIRAL_MODEL).unwrap();
    let names = train::select_params(&spiral.var_names(), &["W*"]).unwrap();
    let start = train::initial_params(&spiral, &names, 0);
    for (prefix, fans) in [("W1", 18.0), ("W2", 32.0), ("W3", 19.0)] {
        let limit = (6.0f64 / fans).sqrt();
        let widest = names
            .iter()
            .zip(&start)
            .filter(|(n, _)| n.starts_with(prefix))
            .map(|(_, v)| v.abs())
            .fold(0.0, f64::max);
        // the widest of 32 draws or more comes near the limit and never past it
        assert!(widest <= limit && widest > 0.8 * limit, "{prefix}: {widest} against {limit}");
    }
}

#[test]
fn the_training_gradient_matches_finite_differences_of_the_mean_loss() {
    let mut f = Formula::parse(XOR_MODEL).unwrap();
    let data = xor_data();
    let params = xor_params(&f);
    let start = train::initial_params(&f, &params, 3);
    let model = Model::new(&mut f, &params, &data).unwrap();
    let (_, gradient) = model.loss_and_gradient(&start, &data, None);
    for i in 0..params.len() {
        let h = 1e-6;
        let mut up = start.clone();
        let mut down = start.clone();
        up[i] += h;
        down[i] -= h;
        let numeric = (model.loss_and_gradient(&up, &data, None).0
            - model.loss_and_gradient(&down, &data, None).0)
            / (2.0 * h);
        assert!(
            (gradient[i] - numeric).abs() < 1e-7,
            "{}: {} vs {numeric}",
            params[i],
            gradient[i]
        );
    }
}

#[test]
fn parameter_patterns() {
    let vars: Vec<String> =
        ["w1_1", "w1_2", "b1", "x1", "v1", "c", "y"].iter().map(|s| s.to_string()).collect();
    let pick = |p: &[&str]| {
        train::select_params(&vars, &p.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    };
    assert_eq!(pick(&["w*"]).unwrap(), ["w1_1", "w1_2"]);
    assert_eq!(pick(&["*1", "c"]).unwrap(), ["w1_1", "b1", "x1", "v1", "c"]);
    assert_eq!(pick(&["w1_*2"]).unwrap(), ["w1_2"]);
    assert!(pick(&["q*"]).is_err());
}

#[test]
fn parameter_patterns_meet_arrays_by_their_names() {
    let vars = ["W1[1,1]", "W1[1,2]", "W1[2,1]", "W1[2,2]", "W2[1,1]", "b1[1]", "b1[2]", "c"];
    let pick = |p: &[&str]| train::select_params(&vars, p);
    assert_eq!(pick(&["W1"]).unwrap(), &vars[..4], "an array's name stands for its elements");
    assert_eq!(pick(&["W*"]).unwrap(), &vars[..5]);
    assert_eq!(pick(&["W1[2,*]"]).unwrap(), ["W1[2,1]", "W1[2,2]"], "one row");
    assert_eq!(pick(&["W1[1,2]", "c"]).unwrap(), ["W1[1,2]", "c"]);
    assert_eq!(pick(&["*1"]).unwrap(), [&vars[..4], &vars[5..7]].concat(), "W1 and b1, not W2");
    let error = pick(&["W3"]).unwrap_err().to_string();
    assert!(error.contains("(its variables: W1, W2, b1, c)"), "{error}");
}

// ------------------------------------------------------------------ the command line

fn temp(name: &str) -> String {
    std::env::temp_dir()
        .join(format!("chainrule-train-{}-{name}", std::process::id()))
        .display()
        .to_string()
}

/// The README's XOR command.
const XOR: [&str; 7] = [
    "train",
    "-f",
    "examples/xor/model.expr",
    "--data",
    "examples/xor/xor.csv",
    "--params",
    "W1,b1,v,c",
];

#[test]
fn the_xor_net_trains_from_the_command_line() {
    let saved = temp("xor.json");
    let mut args = XOR.to_vec();
    args.extend(["--epochs", "2000", "--save", &saved]);
    let (status, out, err) = chainrule(&args);
    assert_eq!(status, 0, "{err}");
    let loss: f64 = out.lines().next().unwrap().strip_prefix("loss = ").unwrap().parse().unwrap();
    assert!(loss < 0.01, "{out}");
    assert!(err.contains("epoch 2000/2000"), "progress lines: {err}");
    // The summary: an array as a nested list (a matrix one row a line, aligned) that reads
    // back as JSON, like the saved file, whose arrays have their declared shapes.
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let keys: Vec<&String> = file.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["W1", "b1", "v", "c"], "{file}");
    let shape = |v: &serde_json::Value| match &v[0] {
        serde_json::Value::Array(row) => vec![v.as_array().unwrap().len(), row.len()],
        _ => vec![v.as_array().map_or(0, Vec::len)],
    };
    assert_eq!(shape(&file["W1"]), [4, 2]);
    assert_eq!(shape(&file["b1"]), [4]);
    assert_eq!(shape(&file["v"]), [4]);
    assert!(file["c"].is_number());
    let printed = out.split_once("W1 = ").unwrap().1;
    let (w1, rest) = printed.split_once("\nb1 = ").unwrap();
    assert_eq!(w1.lines().count(), 4, "{out}");
    assert!(w1.lines().skip(1).all(|l| l.starts_with("      [")), "aligned under `[[`: {out}");
    let w1: serde_json::Value = serde_json::from_str(w1).unwrap();
    assert_eq!(numbers(&w1), numbers(&file["W1"]), "the summary prints what --save writes");
    let b1: serde_json::Value = serde_json::from_str(rest.lines().next().unwrap()).unwrap();
    assert_eq!(numbers(&b1), numbers(&file["b1"]));
    let c: f64 = out.lines().find_map(|l| l.strip_prefix("c = ")).unwrap().parse().unwrap();
    assert_eq!(c, file["c"].as_f64().unwrap());
    // the saved parameters predict XOR through eval --params
    let program = format!("{XOR_MODEL}\nout");
    for (x1, x2, want) in [(0, 0, false), (0, 1, true), (1, 0, true), (1, 1, false)] {
        let at = format!("x=[{x1},{x2}],y=0");
        let (_, out, err) =
            chainrule(&["eval", &program, "--params", &saved, "--at", &at, "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
        assert_eq!(v["value"].as_f64().unwrap() > 0.5, want, "{x1} xor {x2}");
    }
    // and over the data, whose columns x[1], x[2] bind the elements of x
    let (status, out, err) = chainrule_with_stdin(
        &["eval", "-", "--params", &saved, "--data", "examples/xor/xor.csv", "--reduce", "none"],
        &program,
    );
    assert_eq!(status, 0, "{err}");
    assert_eq!(out.lines().next(), Some("value"), "no header for derivatives not asked for");
    let values: Vec<f64> = out.lines().skip(1).map(|l| l.parse().unwrap()).collect();
    assert!(values[0] < 0.5 && values[1] > 0.5 && values[2] > 0.5 && values[3] < 0.5, "{out}");
    std::fs::remove_file(saved).ok();
}

/// The numbers of a nested list, row by row.
fn numbers(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(numbers).collect(),
        v => vec![v.as_f64().unwrap()],
    }
}

/// The loss and the predictions of a run of the README's XOR command with `seed`.
fn xor_run(seed: u64) -> (f64, Vec<f64>) {
    let saved = temp(&format!("xor-seed-{seed}.json"));
    let seed_text = seed.to_string();
    let mut args = XOR.to_vec();
    args.extend(["--optimizer", "adam", "--lr", "0.1", "--epochs", "2000"]);
    args.extend(["--seed", &seed_text, "--save", &saved]);
    let (status, out, err) = chainrule(&args);
    assert_eq!(status, 0, "seed {seed}: {err}");
    let loss = out.lines().next().unwrap().strip_prefix("loss = ").unwrap().parse().unwrap();
    let program = format!("{XOR_MODEL}\nout");
    let data = ["--data", "examples/xor/xor.csv", "--reduce", "none"];
    let (status, out, err) = chainrule_with_stdin(
        &[&["eval", "-", "--params", &saved][..], &data[..]].concat(),
        &program,
    );
    assert_eq!(status, 0, "seed {seed}: {err}");
    std::fs::remove_file(saved).ok();
    (loss, out.lines().skip(1).map(|l| l.parse().unwrap()).collect())
}

#[test]
fn the_readme_xor_command_learns_xor_from_at_least_19_of_20_seeds() {
    let seeds: Vec<u64> = (0..20).collect();
    let runs: Vec<(u64, f64, Vec<f64>)> = std::thread::scope(|s| {
        let halves: Vec<_> = seeds
            .chunks(10)
            .map(|half| {
                s.spawn(move || half.iter().map(|&seed| (seed, xor_run(seed))).collect::<Vec<_>>())
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().unwrap()).map(|(s, (l, p))| (s, l, p)).collect()
    });
    let failed: Vec<String> = runs
        .iter()
        .filter(|(_, loss, p)| {
            !(*loss < 0.01 && p[0] < 0.5 && p[1] > 0.5 && p[2] > 0.5 && p[3] < 0.5)
        })
        .map(|(seed, loss, p)| format!("seed {seed}: loss {loss}, predictions {p:?}"))
        .collect();
    assert!(failed.len() <= 1, "{} of 20 seeds did not learn XOR: {failed:#?}", failed.len());
}

#[test]
fn the_scalar_xor_net_trains_too() {
    let (status, out, err) = chainrule(&[
        "train",
        "-f",
        "examples/xor/model-scalar.expr",
        "--data",
        "examples/xor/xor-scalar.csv",
        "--params",
        "w*,b*,v*,c",
        "--epochs",
        "2000",
    ]);
    assert_eq!(status, 0, "{err}");
    let loss: f64 = out.lines().next().unwrap().strip_prefix("loss = ").unwrap().parse().unwrap();
    assert!(loss < 0.01, "{out}");
    assert!(out.contains("\nw1_1 = ") && out.contains("\nc = "), "one line a scalar: {out}");
}

#[test]
fn training_is_deterministic_and_save_then_init_continues() {
    let run = |epochs: &str, extra: &[&str]| {
        let mut args = XOR.to_vec();
        args.extend(["--optimizer", "sgd", "--lr", "1", "--epochs", epochs]);
        args.extend(extra);
        let (status, out, err) = chainrule(&args);
        assert_eq!(status, 0, "{err}");
        out
    };
    let shuffled = ["--batch-size", "2", "--seed", "5"];
    assert_eq!(run("200", &shuffled), run("200", &shuffled), "the same seed gives the same run");
    assert_ne!(run("200", &shuffled), run("200", &["--batch-size", "2", "--seed", "6"]));
    // Full-batch SGD has no state besides the parameters: 100 + 100 epochs is 200.
    let halfway = temp("half.json");
    run("100", &["--save", &halfway]);
    assert_eq!(run("100", &["--init", &halfway]), run("200", &[]), "--save then --init continues");
    std::fs::remove_file(halfway).ok();
}

#[test]
fn a_diverging_run_stops_and_names_the_parameter() {
    let data = temp("lin.csv");
    std::fs::write(&data, "x,y\n1,2\n2,4\n3,6\n").unwrap();
    let (status, out, err) = chainrule(&[
        "train",
        "(w*x - y)^2 + b",
        "--data",
        &data,
        "--params",
        "w,b",
        "--optimizer",
        "sgd",
        "--lr",
        "100",
        "--epochs",
        "1000",
    ]);
    assert_eq!(status, 1, "{out}");
    assert!(err.contains("training stopped at epoch"), "{err}");
    assert!(err.contains("the parameter `w` went bad first"), "{err}");
    assert!(out.starts_with("loss = "), "the last finite parameters are printed: {out}");
    std::fs::remove_file(data).ok();
}

#[test]
fn training_errors_are_clear() {
    let xor = |params: &str, extra: &[&str]| {
        let mut args = XOR[..6].to_vec();
        args.push(params);
        args.extend(extra);
        chainrule(&args)
    };
    let (status, _, err) = xor("q*", &[]);
    assert_eq!(status, 2);
    assert!(err.contains("--params `q*` matches no variable"), "{err}");
    assert!(err.contains("(its variables: W1, b1, v, c)"), "arrays by name, no columns: {err}");
    let (status, _, err) = xor("W*", &[]);
    assert_eq!(status, 2);
    assert!(err.contains("`b1[1]` is neither a parameter"), "{err}");
    let (status, _, err) = xor("W1,b1,v,c", &["--init", "/no/such.json"]);
    assert_eq!(status, 1);
    assert!(err.contains("cannot read /no/such.json"), "{err}");
    // a data column is no parameter; a pattern passes over the columns
    let (status, _, err) = xor("W1,b1,v,c,y", &[]);
    assert_eq!(status, 2);
    assert!(err.contains("`y` in --params is a column of the data, not a parameter"), "{err}");
    let (status, _, err) = xor("x,W1,b1,v,c", &[]);
    assert_eq!(status, 2);
    assert!(err.contains("`x` in --params has a column of the data (`x[1]`)"), "{err}");
    let (status, out, err) = xor("*", &["--epochs", "50"]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(out, xor("W1,b1,v,c", &["--epochs", "50"]).1, "`*` is every non-column");
    // an --init file without an array, or with the wrong shape
    let partial = temp("partial.json");
    std::fs::write(
        &partial,
        r#"{"W1": [[1, 2], [3, 4], [5, 6], [7, 8]], "v": [1, 2, 3, 4], "c": 0}"#,
    )
    .unwrap();
    let (status, _, err) = xor("W1,b1,v,c", &["--init", &partial]);
    assert_eq!(status, 2);
    assert!(err.contains("has no value for the parameter `b1`"), "{err}");
    std::fs::write(
        &partial,
        r#"{"W1": [[1, 2], [3, 4]], "b1": [0, 0, 0, 0], "v": [1, 2, 3, 4], "c": 0}"#,
    )
    .unwrap();
    let (status, _, err) = xor("W1,b1,v,c", &["--init", &partial]);
    assert_eq!(status, 2);
    assert!(err.contains("`W1` is declared [4, 2] but given a 2x2 matrix"), "{err}");
    std::fs::remove_file(partial).ok();
}

#[test]
fn data_columns_that_name_no_variable_are_errors_that_name_the_elements() {
    let data = temp("bad-columns.csv");
    let train = |header: &str| {
        std::fs::write(&data, format!("{header}\n0,0,0\n1,1,0\n")).unwrap();
        let mut args = XOR.to_vec();
        args[4] = &data;
        chainrule(&args)
    };
    let (status, _, err) = train("x[1],x[3],y");
    assert_eq!(status, 2);
    assert!(
        err.contains(
            "the data column `x[3]` names no element of `x` (declared [2]); its elements' \
             columns are x[1], x[2]"
        ),
        "{err}"
    );
    let (status, _, err) = train("x,z,y");
    assert_eq!(status, 2);
    assert!(
        err.contains(
            "the data column `x` names the array `x` (declared [2]); a column binds \
                      one element: x[1], x[2]"
        ),
        "{err}"
    );
    let (status, _, err) = train("x[1],x[2],z");
    assert_eq!(status, 2);
    assert!(
        err.contains(
            "the data column `z` names no variable of the model (its variables: W1, \
                      b1, v, x, c, y)"
        ),
        "{err}"
    );
    // eval says the same of the formula
    let (status, _, err) = chainrule(&["eval", "-f", "examples/xor/model.expr", "--data", &data]);
    assert_eq!(status, 2);
    assert!(err.contains("the data column `z` names no variable of the formula"), "{err}");
    let (status, _, err) = train("x[1],\"W1[1,1]\",y");
    assert_eq!(status, 2);
    assert!(
        err.contains("`W1` in --params has a column of the data (`W1[1,1]`), not a parameter"),
        "{err}"
    );
    std::fs::remove_file(data).ok();
}

#[test]
fn linear_regression_recovers_its_coefficients() {
    let (status, out, err) = chainrule(&[
        "train",
        "-f",
        "examples/regression/model.expr",
        "--data",
        "examples/regression/houses.csv",
        "--params",
        "w_*,b",
        "--lr",
        "0.05",
        "--epochs",
        "3000",
    ]);
    assert_eq!(status, 0, "{err}");
    let value = |name: &str| -> f64 {
        out.lines().find_map(|l| l.strip_prefix(&format!("{name} = "))).unwrap().parse().unwrap()
    };
    // the data were made as 1.2 + 3.1*size - 0.45*age + noise(0.15)
    assert!((value("w_size") - 3.1).abs() < 0.05, "{out}");
    assert!((value("w_age") + 0.45).abs() < 0.02, "{out}");
    assert!((value("b") - 1.2).abs() < 0.1, "{out}");
    assert!((value("loss") - 0.0225).abs() < 0.005, "{out}");
}

#[test]
fn a_params_name_the_model_does_not_use_is_an_error() {
    let mut args = XOR[..6].to_vec();
    args.push("W1,b1,v,c,W2");
    let (status, _, err) = chainrule(&args);
    assert_eq!(status, 2);
    assert!(err.contains("`W2` in --params is not a variable of the formula"), "{err}");
    assert!(err.contains("did you mean `W1`?"), "{err}");
}

// ------------------------------------------------------------------ the spiral classifier

const SPIRAL_MODEL: &str = include_str!("../examples/spiral/model.expr");

/// The README's spiral command, then the accuracy over the data as the README computes it.
#[test]
fn the_spiral_classifier_reaches_95_percent() {
    let saved = temp("spiral.json");
    let started = std::time::Instant::now();
    let (status, out, err) = chainrule(&[
        "train",
        "-f",
        "examples/spiral/model.expr",
        "--data",
        "examples/spiral/spiral.csv",
        "--params",
        "W*,b*",
        "--lr",
        "0.01",
        "--epochs",
        SPIRAL_EPOCHS,
        "--save",
        &saved,
    ]);
    assert_eq!(status, 0, "{err}");
    let seconds = started.elapsed().as_secs_f64();
    let program = format!("{SPIRAL_MODEL}\ndot(y, 1 - step(max(logits) - logits))");
    let (status, accuracy, err) = chainrule_with_stdin(
        &["eval", "-", "--params", &saved, "--data", "examples/spiral/spiral.csv"],
        &program,
    );
    assert_eq!(status, 0, "{err}");
    let accuracy: f64 = accuracy.trim().strip_prefix("value = ").unwrap().parse().unwrap();
    assert!(
        accuracy >= 0.95,
        "accuracy {accuracy} after {seconds:.1} s: {}",
        out.lines().next().unwrap()
    );
    std::fs::remove_file(saved).ok();
}

const SPIRAL_EPOCHS: &str = "2000";
