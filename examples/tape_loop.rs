//! Runs a formula's value+gradient tape many times at one point, for profiling:
//! `cargo run --release --example tape_loop -- FILE RUNS`.
fn main() {
    let path = std::env::args().nth(1).expect("formula file");
    let runs: usize = std::env::args()
        .nth(2)
        .map_or(1_000_000, |s| s.parse().unwrap());
    let src = std::fs::read_to_string(path).unwrap();
    let mut f = chainrule::Formula::parse(&src).unwrap();
    let wrt: Vec<String> = f
        .vars
        .iter()
        .filter(|v| !v.starts_with('x') && *v != "y")
        .cloned()
        .collect();
    let wrt = if wrt.is_empty() { f.vars.clone() } else { wrt };
    let tape = f.gradient_tape(&wrt).unwrap();
    let point: Vec<f64> = (0..f.vars.len())
        .map(|i| 0.1 + (i as f64 * 0.37).sin() * 0.5)
        .collect();
    let mut regs = Vec::new();
    let mut out = vec![0.0; tape.outputs()];
    let start = std::time::Instant::now();
    for _ in 0..runs {
        tape.run_into(std::hint::black_box(&point), &mut regs, &mut out);
    }
    let ns = start.elapsed().as_nanos() as f64 / runs as f64;
    println!(
        "{} instructions, {ns:.1} ns per run, {:.2} ns per instruction",
        tape.len(),
        ns / tape.len() as f64
    );
}
