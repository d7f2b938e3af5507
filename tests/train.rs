//! Training: the XOR net learns with every optimizer, the gradient it uses matches finite
//! differences of the mean loss, runs are deterministic, --save/--init continue, and a
//! diverging run stops naming the parameter that went bad.

mod common;

use chainrule::eval::data::{read_csv, Table};
use chainrule::train::{self, Model, Optimizer, TrainOptions, Trained};
use chainrule::Formula;
use common::chainrule;
use std::path::Path;

const XOR_MODEL: &str = include_str!("../examples/xor/model.expr");

fn xor_data() -> Table {
    read_csv(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/xor/xor.csv"))).unwrap()
}

fn xor_params(f: &Formula) -> Vec<String> {
    let patterns: Vec<String> = ["w*", "b*", "v*", "c"].iter().map(|s| s.to_string()).collect();
    train::select_params(&f.var_names(), &patterns).unwrap()
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
    let start = train::initial_params(&f, &params, 0);
    for (p, v) in params.iter().zip(&start) {
        if p.starts_with('b') || p == "c" {
            assert_eq!(*v, 0.0, "{p}");
        } else {
            // hidden weights feed sums of 3 terms, output weights sums of 5
            let limit = if p.starts_with('w') { (6.0f64 / 4.0).sqrt() } else { 1.0 };
            assert!(v.abs() <= limit && *v != 0.0, "{p} = {v}");
        }
    }
    assert_eq!(start, train::initial_params(&f, &params, 0), "a seed fixes them");
    assert_ne!(start, train::initial_params(&f, &params, 1));
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

// ------------------------------------------------------------------ the command line

fn temp(name: &str) -> String {
    std::env::temp_dir()
        .join(format!("chainrule-train-{}-{name}", std::process::id()))
        .display()
        .to_string()
}

const XOR: [&str; 7] = [
    "train",
    "-f",
    "examples/xor/model.expr",
    "--data",
    "examples/xor/xor.csv",
    "--params",
    "w*,b*,v*,c",
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
    // the saved parameters predict XOR through eval --params
    let program = format!("{XOR_MODEL}\nout");
    for (x1, x2, want) in [(0, 0, false), (0, 1, true), (1, 0, true), (1, 1, false)] {
        let at = format!("x1={x1},x2={x2},y=0");
        let (_, out, err) =
            chainrule(&["eval", &program, "--params", &saved, "--at", &at, "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
        assert_eq!(v["value"].as_f64().unwrap() > 0.5, want, "{x1} xor {x2}");
    }
    std::fs::remove_file(saved).ok();
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
    let (status, _, err) = xor("w*", &[]);
    assert_eq!(status, 2);
    assert!(err.contains("`b1` is neither a parameter"), "{err}");
    let (status, _, err) = xor("w*,b*,v*,c", &["--init", "/no/such.json"]);
    assert_eq!(status, 1);
    assert!(err.contains("cannot read /no/such.json"), "{err}");
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
    args.push("w*,b*,v*,c,w1_9");
    let (status, _, err) = chainrule(&args);
    assert_eq!(status, 2);
    assert!(err.contains("`w1_9` in --params is not a variable of the formula"), "{err}");
    assert!(err.contains("did you mean `w1_1`?"), "{err}");
}
