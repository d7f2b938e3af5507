//! The speed of generated C and NumPy on the formulas of `benches/tape.rs` (the README's
//! code generation table). A benchmark, not a test: it times, and needs cc and NumPy. Run
//! with `cargo bench --bench codegen_speed`.
//!
//! C: the generated function compiled by `cc -O2` in its own translation unit (so the
//! timing loop cannot hoist the call), at the benchmark's point, median of 21 runs of a
//! timed loop. NumPy: one call over the benchmark's 10,000 rows, then the mean (XOR and
//! 10-32-1) or the sum (Rosenbrock) of the value and of each gradient column, as the batch
//! evaluator's `rows10k` figures reduce; median of 21 calls.

use chainrule::codegen::{generate, Lang, Options};
use chainrule::Formula;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// One benchmark formula: its name, source, `--wrt` and the value of each variable at the
/// point (a data variable's value at the point is its first row).
struct Bench {
    name: &'static str,
    src: String,
    wrt: Vec<String>,
    vars: Vec<String>,
    /// For each variable: its value at the point, and its column over the rows (None for
    /// a parameter, fixed for all rows).
    values: Vec<(f64, Option<Vec<f64>>)>,
    /// Whether the batch reduces by the mean (else the sum).
    mean: bool,
}

const ROWS: usize = 10_000;

/// The nets of `benches/tape.rs`: `act` hidden units, sigmoid output, bce loss.
fn network(name: &'static str, inputs: usize, hidden: usize, act: &str) -> Bench {
    let mut src = String::new();
    for j in 1..=hidden {
        let sum: Vec<String> = (1..=inputs).map(|i| format!("w{j}_{i}*x{i}")).collect();
        writeln!(src, "h{j} = {act}({} + b{j})", sum.join(" + ")).unwrap();
    }
    let out: Vec<String> = (1..=hidden).map(|j| format!("v{j}*h{j}")).collect();
    writeln!(src, "out = sigmoid({} + c)\nbce(out, y)", out.join(" + ")).unwrap();
    let wave = |k: usize| ((k as f64) * 0.7).sin() * 0.5;
    let mut params: Vec<(String, f64)> = Vec::new();
    for j in 0..hidden {
        for i in 0..inputs {
            params.push((format!("w{}_{}", j + 1, i + 1), wave(j * inputs + i)));
        }
        params.push((format!("b{}", j + 1), wave(j + 1000)));
    }
    params.extend((0..hidden).map(|j| (format!("v{}", j + 1), wave(j + 2000))));
    params.push(("c".into(), 0.1));
    let column = |i: usize| -> Vec<f64> {
        (0..ROWS).map(|r| ((r * 7 + i * 3) % 11) as f64 / 10.0 - 0.5).collect()
    };
    let vars = var_names(&src);
    let values = vars
        .iter()
        .map(|v| {
            if let Some((_, p)) = params.iter().find(|(n, _)| n == v) {
                return (*p, None);
            }
            if v == "y" {
                return (1.0, Some((0..ROWS).map(|r| (r % 2) as f64).collect()));
            }
            let i: usize = v[1..].parse().unwrap();
            (0.3 + 0.1 * (i - 1) as f64, Some(column(i - 1)))
        })
        .collect();
    let wrt = params.into_iter().map(|(n, _)| n).collect();
    Bench { name, src, wrt, vars, values, mean: true }
}

fn rosenbrock(n: usize) -> Bench {
    let terms: Vec<String> =
        (1..n).map(|i| format!("100*(x{} - x{i}^2)^2 + (1 - x{i})^2", i + 1)).collect();
    let src = terms.join(" + ");
    let vars = var_names(&src);
    let values = vars
        .iter()
        .map(|v| {
            let i: usize = v[1..].parse::<usize>().unwrap() - 1;
            let rows = (0..ROWS).map(|r| ((r + i) % 17) as f64 / 8.0 - 1.0).collect();
            (0.5 + 0.01 * i as f64, Some(rows))
        })
        .collect();
    let wrt = (1..=n).map(|i| format!("x{i}")).collect();
    Bench { name: "rosenbrock100", src, wrt, vars, values, mean: false }
}

fn var_names(src: &str) -> Vec<String> {
    Formula::parse(src).unwrap().var_names().into_iter().map(str::to_string).collect()
}

fn benches() -> Vec<Bench> {
    vec![
        network("xor_2_4_1", 2, 4, "sigmoid"),
        network("net_10_32_1", 10, 32, "tanh"),
        rosenbrock(100),
    ]
}

fn code(b: &Bench, lang: Lang) -> String {
    let wrt: Vec<&str> = b.wrt.iter().map(String::as_str).collect();
    let mut f = Formula::parse(&b.src).unwrap();
    generate(&mut f, &Options::new(lang).name(b.name).wrt(&wrt)).unwrap()
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr).chars().take(4000).collect::<String>()
    );
    String::from_utf8(out.stdout).unwrap()
}

fn main() {
    c_at_one_point();
    numpy_over_10k_rows();
}

fn c_at_one_point() {
    if !runs("cc", &["--version"]) {
        eprintln!("note: no C compiler (cc)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut generated = String::new();
    let mut main = String::from(
        "#define _POSIX_C_SOURCE 199309L\n#include <stdio.h>\n#include <stdlib.h>\n#include <time.h>\n\n\
         static double now(void) {\n    struct timespec t;\n    \
         clock_gettime(CLOCK_MONOTONIC, &t);\n    return t.tv_sec * 1e9 + t.tv_nsec;\n}\n\n\
         static int by_value(const void *a, const void *b) {\n    \
         double x = *(const double *)a, y = *(const double *)b;\n    \
         return (x > y) - (x < y);\n}\n\n\
         /* Median over 21 runs of the ns per call of f at in. */\n\
         static double time_ns(double (*f)(const double *, double *), const double *in, double *grad) {\n    \
         double runs[21], sink = 0.0;\n    long n = 1;\n    \
         for (;;) {\n        double t0 = now();\n        \
         for (long i = 0; i < n; i++) sink += f(in, grad);\n        \
         if (now() - t0 > 2e7) break;\n        n *= 2;\n    }\n    \
         for (int r = 0; r < 21; r++) {\n        double t0 = now();\n        \
         for (long i = 0; i < n; i++) sink += f(in, grad);\n        \
         runs[r] = (now() - t0) / n;\n    }\n    \
         qsort(runs, 21, sizeof(double), by_value);\n    \
         if (sink == 42.0) printf(\"!\");\n    return runs[10];\n}\n\nint main(void) {\n    \
         static double grad[512];\n",
    );
    for b in benches() {
        generated.push_str(&code(&b, Lang::C));
        generated.push('\n');
        let point: Vec<String> = b.values.iter().map(|(v, _)| format!("{v:?}")).collect();
        writeln!(
            main,
            "    {{\n        static const double in[] = {{{point}}};\n        \
             double {name}(const double *, double *);\n        \
             printf(\"{name} %.1f ns\\n\", time_ns({name}, in, grad));\n    }}",
            point = point.join(", "),
            name = b.name
        )
        .unwrap();
    }
    main.push_str("    return 0;\n}\n");
    std::fs::write(dir.path().join("generated.c"), generated).unwrap();
    std::fs::write(dir.path().join("main.c"), main).unwrap();
    let args = ["-std=c99", "-O2", "main.c", "generated.c", "-o", "main", "-lm"];
    run(dir.path(), "cc", &args);
    print!("{}", run(dir.path(), "./main", &[]));
}

fn numpy_over_10k_rows() {
    if !runs("python3", &["-c", "import numpy"]) {
        eprintln!("note: python3 with numpy is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut driver = String::from(
        "import statistics, time\nimport numpy as np\n\n\
         def time_ms(call):\n    runs = []\n    for _ in range(21):\n        \
         t0 = time.perf_counter()\n        call()\n        \
         runs.append((time.perf_counter() - t0) * 1e3)\n    return statistics.median(runs)\n\n",
    );
    for b in benches() {
        std::fs::write(dir.path().join(format!("{}.py", b.name)), code(&b, Lang::Python)).unwrap();
        let args: Vec<String> = b
            .values
            .iter()
            .zip(&b.vars)
            .map(|((v, rows), name)| match rows {
                Some(rows) => {
                    let rows: Vec<String> = rows.iter().map(|r| format!("{r:?}")).collect();
                    format!("    np.array([{}]),  # {name}\n", rows.join(", "))
                }
                None => format!("    {v:?},  # {name}\n"),
            })
            .collect();
        let reduce = if b.mean { "np.mean" } else { "np.sum" };
        writeln!(
            driver,
            "import {0}\nargs_{0} = [\n{1}]\n\n\
             def run_{0}():\n    value, grad = {0}.{0}(*args_{0})\n    \
             return {reduce}(value), [{reduce}(g) for g in grad]\n\n\
             print('{0} %.2f ms' % time_ms(run_{0}))\n",
            b.name,
            args.concat()
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("driver.py"), driver).unwrap();
    print!("{}", run(dir.path(), "python3", &["driver.py"]));
}
