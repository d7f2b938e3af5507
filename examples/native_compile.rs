//! Times native compilation alone (for profiling it apart from the other phases):
//! `cargo run --release --example native_compile -- FILE [a,b,...] [REPEATS]`; prints the
//! tape's length and the fastest compile, in wall time and in this thread's processor time
//! (which a busy machine's other work does not inflate; on one core rayon compiles here).
use chainrule::eval::compile_native;
use chainrule::Formula;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a formula file");
    let source = std::fs::read_to_string(path).expect("a readable file");
    let mut formula = Formula::parse(&source).expect("a formula");
    let names: Vec<String> = match args.next().filter(|w| !w.is_empty()) {
        Some(list) => list.split(',').map(str::to_string).collect(),
        None => formula.var_names().iter().map(|s| s.to_string()).collect(),
    };
    let repeats: usize = args.next().map_or(5, |r| r.parse().expect("a count"));
    let tape = formula.gradient_tape(&names).expect("a gradient tape");
    let (mut fastest, mut least_cpu) = (Duration::MAX, Duration::MAX);
    for _ in 0..repeats {
        let (start, cpu) = (Instant::now(), cpu_time());
        let native = compile_native(&tape).expect("native code");
        fastest = fastest.min(start.elapsed());
        least_cpu = least_cpu.min(cpu_time() - cpu);
        drop(native);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{} instructions: native compile {:.2} ms ({:.2} ms on the processor)",
        tape.len(),
        ms(fastest),
        ms(least_cpu)
    );
}

/// This thread's time on the processor so far (Linux's schedstat; zero elsewhere).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat.split_whitespace().next().and_then(|t| t.parse().ok()).unwrap_or(0);
    Duration::from_nanos(ns)
}
