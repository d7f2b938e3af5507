//! The fast transcendentals (`operators::fastmath`) against the standard library over
//! sweeps of many points each, edge cases included (0, -0, subnormals, the ends of the
//! range, infinities, NaN, large arguments of sin and cos, points next to multiples of
//! π/2): within 1 ulp (tanh and sigmoid: 2), the same special values, and the same bits
//! one value at a time, many at a time, and through the function table.

use chainrule::operators::fastmath as fm;
use chainrule::operators::{kernels, Func};

/// A small deterministic generator (xorshift64*), so that the sweeps need no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[lo, hi)`.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// A double with random bits: every exponent equally likely.
    fn any(&mut self) -> f64 {
        f64::from_bits(self.next())
    }
}

/// Distance in units in the last place (adjacent doubles are 1 apart, 0 and -0 are 0).
fn ulps(a: f64, b: f64) -> u64 {
    let key = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 {
            i64::MIN - bits
        } else {
            bits
        }
    };
    (key(a) as i128 - key(b) as i128).unsigned_abs() as u64
}

/// Edge cases every function sees.
fn edges() -> Vec<f64> {
    let mut xs = vec![
        0.0,
        -0.0,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        1e-310,
        -1e-310,
        1e-300,
        1e-20,
        -1e-20,
        1.0,
        -1.0,
        f64::MAX,
        f64::MIN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
    ];
    xs.extend([0.5, 0.55, 0.549_999_999_999_999_9, 2.0, 10.0, 20.0, 22.0, 50.0]);
    xs.extend(xs.clone().iter().map(|x| -x));
    xs
}

/// Checks `fast` against `reference` at every point of `xs`: NaN where it is NaN, the same
/// infinities and signed zeros, else within `bound` ulp. Returns the largest distance seen.
fn compare(
    name: &str,
    xs: &[f64],
    fast: fn(f64) -> f64,
    reference: fn(f64) -> f64,
    bound: u64,
) -> u64 {
    let mut worst = 0;
    for &x in xs {
        let (got, want) = (fast(x), reference(x));
        if want.is_nan() {
            assert!(got.is_nan(), "{name}({x:e}) = {got:e}, want NaN");
            continue;
        }
        if want.is_infinite() || got.is_infinite() {
            assert_eq!(got.to_bits(), want.to_bits(), "{name}({x:e}) = {got:e}, want {want:e}");
            continue;
        }
        let d = ulps(got, want);
        assert!(d <= bound, "{name}({x:e}) = {got:e}, std {want:e}: {d} ulp");
        worst = worst.max(d);
    }
    worst
}

/// `count` uniform points in each of `ranges`, random bit patterns, and the edges.
fn sweep(seed: u64, ranges: &[(f64, f64)], count: usize) -> Vec<f64> {
    let mut rng = Rng(seed);
    let mut xs = edges();
    for &(lo, hi) in ranges {
        xs.extend((0..count).map(|_| rng.uniform(lo, hi)));
    }
    xs.extend((0..count).map(|_| rng.any()));
    xs
}

/// Points next to whole multiples of π/2, where reduction cancels most: the double nearest
/// `k π/2` and its neighbours, for small and large `k`.
fn near_multiples_of_half_pi() -> Vec<f64> {
    let mut xs = Vec::new();
    let ks = (1..2000u64).chain((0..2000).map(|i| 600_000 + 37 * i));
    for k in ks {
        let x = k as f64 * std::f64::consts::FRAC_PI_2;
        for step in -3i64..=3 {
            let y = f64::from_bits((x.to_bits() as i64 + step) as u64);
            xs.extend([y, -y]);
        }
    }
    xs
}

#[test]
fn exp_is_within_1_ulp_of_std() {
    let xs = sweep(1, &[(-746.0, 710.0), (-1.0, 1.0), (-1e-8, 1e-8), (-745.2, -708.0)], 200_000);
    let mut xs = xs;
    xs.extend([709.78, 709.782_712_893_384, 709.79, -745.13, -745.14, -708.39, -708.4, 0.346_57]);
    let worst = compare("exp", &xs, fm::exp, f64::exp, 1);
    println!("exp: worst {worst} ulp over {} points", xs.len());
}

#[test]
fn sin_and_cos_are_within_1_ulp_of_std() {
    let ranges = [(-10.0, 10.0), (-1e-3, 1e-3), (-1.1e6, 1.1e6), (-1e300, 1e300)];
    let mut xs = sweep(3, &ranges, 200_000);
    xs.extend(near_multiples_of_half_pi());
    xs.extend([1048575.9, 1048576.0, 1048576.1, 1e22, 1e308]);
    let worst_sin = compare("sin", &xs, fm::sin, f64::sin, 1);
    let worst_cos = compare("cos", &xs, fm::cos, f64::cos, 1);
    println!("sin, cos: worst {worst_sin}, {worst_cos} ulp over {} points", xs.len());
    assert_eq!(fm::sin(-0.0).to_bits(), (-0.0f64).to_bits(), "sin(-0) is -0");
}

#[test]
fn tanh_is_within_2_ulp_of_std() {
    let ranges = [(-25.0, 25.0), (-0.6, 0.6), (0.54, 0.56), (-3.0, 3.0)];
    let xs = sweep(4, &ranges, 200_000);
    let worst = compare("tanh", &xs, fm::tanh, f64::tanh, 2);
    println!("tanh: worst {worst} ulp over {} points", xs.len());
}

#[test]
fn sigmoid_is_within_2_ulp_of_the_formula_with_std_exp() {
    fn reference(x: f64) -> f64 {
        if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            x.exp() / (1.0 + x.exp())
        }
    }
    let xs = sweep(5, &[(-40.0, 40.0), (-750.0, 750.0), (-1.0, 1.0)], 200_000);
    let worst = compare("sigmoid", &xs, kernels::sigmoid, reference, 2);
    println!("sigmoid: worst {worst} ulp over {} points", xs.len());
}

/// One value at a time.
type Scalar = fn(f64) -> f64;

/// Many values at once: `(out, xs)`.
type Lanes = fn(&mut [f64], &[f64]);

/// The batch runner's many-at-once forms, the scalar forms and the function table (what
/// native code and constant folding call) give the same bits.
#[test]
fn lanes_scalar_and_table_agree_to_the_bit() {
    // The last two: where `e^-|x|` is subnormal, or zero.
    let ranges = [(-20.0, 20.0), (-1.1e6, 1.1e6), (-1.0, 1.0), (-760.0, -700.0), (700.0, 760.0)];
    let xs = sweep(6, &ranges, 50_000);
    let cases: [(Func, Scalar, Lanes); 5] = [
        (Func::Exp, fm::exp, fm::exp_lanes),
        (Func::Sin, fm::sin, fm::sin_lanes),
        (Func::Cos, fm::cos, fm::cos_lanes),
        (Func::Tanh, fm::tanh, fm::tanh_lanes),
        (Func::Sigmoid, kernels::sigmoid, fm::sigmoid_lanes),
    ];
    for (func, scalar, lanes) in cases {
        let mut out = vec![0.0; xs.len()];
        lanes(&mut out, &xs);
        for (&x, &y) in xs.iter().zip(&out) {
            let one = scalar(x);
            let table = func.eval_f64([x, 0.0, 0.0]);
            let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan();
            assert!(same(one, y), "{}({x:e}): {one:e} one at a time, {y:e} in lanes", func.name());
            assert!(same(one, table), "{}({x:e}): {one:e}, table {table:e}", func.name());
        }
    }
}

/// `sin_cos_lanes` (the batch runner's `sin` and `cos` of one operand at once) gives the
/// bits of `sin_lanes` and `cos_lanes`, and `sin_cos` (native code's) those of `sin` and
/// `cos`, large arguments, infinities and NaN included.
#[test]
fn sin_and_cos_together_agree_with_each_alone_to_the_bit() {
    let ranges = [(-20.0, 20.0), (-1.1e6, 1.1e6), (-1e300, 1e300)];
    let mut xs = sweep(7, &ranges, 30_000);
    xs.extend(edges());
    xs.extend(near_multiples_of_half_pi());
    let (mut sines, mut cosines) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
    fm::sin_cos_lanes(&mut sines, &mut cosines, &xs);
    let (mut sin_alone, mut cos_alone) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
    fm::sin_lanes(&mut sin_alone, &xs);
    fm::cos_lanes(&mut cos_alone, &xs);
    let bits = |v: &[f64]| {
        v.iter().map(|y| if y.is_nan() { u64::MAX } else { y.to_bits() }).collect::<Vec<_>>()
    };
    assert_eq!(bits(&sines), bits(&sin_alone));
    assert_eq!(bits(&cosines), bits(&cos_alone));
    let (sines, cosines): (Vec<f64>, Vec<f64>) = xs.iter().map(|&x| fm::sin_cos(x)).unzip();
    assert_eq!(bits(&sines), bits(&xs.iter().map(|&x| fm::sin(x)).collect::<Vec<_>>()));
    assert_eq!(bits(&cosines), bits(&xs.iter().map(|&x| fm::cos(x)).collect::<Vec<_>>()));
}
