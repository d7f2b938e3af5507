//! Fast `exp`, `sin`, `cos`, `tanh` and `sigmoid` for f64: straight-line code (no table,
//! no call), so that the interpreter inlines them and a loop over a batch's rows vectorises
//! (with SSE2, or AVX2 in the batch runner's copy for processors that have it). They are
//! the kernels of the function table, so the interpreter, its batch runner, native code and
//! constant folding all call these and agree to the bit.
//!
//! `sin` and `cos` are fdlibm's (Sun, 1993; as in FreeBSD and musl): Cody-Waite reduction
//! by π/2, then minimax polynomials; `exp` reduces by ln 2 the same way and sums its Taylor
//! series in Estrin's scheme (no division). Their error is below 1 ulp of the true value,
//! the standard library's (glibc) below 0.5 ulp, so the two differ by at most 1 ulp; `tanh`
//! and `sigmoid`, a division or two on top of `exp`, by at most 2. Integer work (rounding
//! to a whole number, building 2^k) is done on the bits with the `1.5 * 2^52` shift, which
//! SSE2 can do on two lanes at once. `crates/chainrule/tests/fastmath.rs` sweeps each
//! against the standard library. (fdlibm's `ln`, with its division, was slower than glibc's
//! table-driven one here, so `ln` stays the standard library's.)
//!
//! `sin`, `cos` (|x| ≥ 2^20, infinities, NaN) and `tanh` (|x| < 0.55, NaN) leave a rare
//! range to the standard library: [`sin_lanes`] and friends run the fast form on every
//! lane, then redo those lanes, so that the batch loop stays vectorised and gives the same
//! bits as one call per value. One value at a time, `exp`, `sin` and `cos` also branch to a
//! shorter form for the common range (same bits) to cut latency along chains.

// The coefficients are written as published (fdlibm), digits past a double's included.
#![allow(clippy::excessive_precision)]

use std::f64::consts::{FRAC_2_PI, LOG2_E};

/// `1.5 * 2^52`: adding it rounds a double below 2^51 in magnitude to a whole number (to
/// nearest), which then sits in the low bits of the sum's mantissa.
pub(crate) const SHIFT: f64 = 6755399441055744.0;

/// Bits of `SHIFT`, whose low bits `x + SHIFT` offsets by the rounded `x`.
pub(crate) const SHIFT_BITS: u64 = 0x4338_0000_0000_0000;

/// The rounded `x` (|x| < 2^51) as a double and as the low bits of a word (two's complement).
#[inline(always)]
fn round_split(x: f64) -> (f64, u64) {
    let t = x + SHIFT;
    (t - SHIFT, t.to_bits().wrapping_sub(SHIFT_BITS))
}

/// The exponent bias of an f64: 2^k is the word `(k + EXPONENT_BIAS) << 52`.
pub(crate) const EXPONENT_BIAS: u64 = 1023;

/// 2^k for a whole `k` (as the low bits of a word) in the normal range `-1022..=1023`.
#[inline(always)]
fn pow2(k: u64) -> f64 {
    f64::from_bits(k.wrapping_add(EXPONENT_BIAS) << 52)
}

// ------------------------------------------------------------------ exp

pub(crate) const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
pub(crate) const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;

/// 1/n! for n = 2..=13: `e^r = 1 + r + r² Σ E[i] r^i`, whose truncation error at
/// |r| ≤ ln2/2 is below 4.3e-18 (r^14/14!), a 25th of an ulp of 1.
pub(crate) const E: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362880.0,
    1.0 / 3628800.0,
    1.0 / 39916800.0,
    1.0 / 479001600.0,
    1.0 / 6227020800.0,
];

/// e^x, within 1 ulp of the standard library's. `x = k ln2 + r` with |r| ≤ ln2/2 (k ln2 in
/// two parts, the first exact), e^r by its Taylor polynomial of degree 13 evaluated in
/// Estrin's scheme (short dependency chains, no division), times 2^k. Where the result is
/// normal, one product by 2^k (exact); elsewhere see `exp_any`.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    if x.abs() < 708.0 {
        let (y, _, k) = exp_reduced(x);
        y * pow2(k)
    } else {
        exp_any(x)
    }
}

/// Below this `exp` is 0 (the smallest subnormal is about e^-744.4).
pub(crate) const EXP_FLOOR: f64 = -746.0;

/// [`exp`] without its shortcut for the normal range, with the same bits: 2^k as two powers
/// of two, so that results near overflow and in the subnormal range round once. A loop
/// over lanes vectorises this.
#[inline(always)]
fn exp_any(x: f64) -> f64 {
    // Past these the result is infinite or zero (a NaN stays NaN).
    let x = x.clamp(EXP_FLOOR, 710.0);
    let (y, kf, k) = exp_reduced(x);
    // 2^k as 2^k1 * 2^(k - k1), k1 = k/2 rounded: both factors are normal.
    let (_, k1) = round_split(kf * 0.5);
    y * pow2(k1) * pow2(k.wrapping_sub(k1))
}

/// Offset that keeps `2^(k + DOWNSCALE)` normal for every `k` of `e^x`, `EXP_FLOOR <= x <= 0`.
pub(crate) const DOWNSCALE: u64 = 512;

/// `2^-DOWNSCALE`.
pub(crate) const DOWNSCALED_ONE: f64 = f64::from_bits((EXPONENT_BIAS - DOWNSCALE) << 52);

/// [`exp`] of `x <= 0` (or NaN), with its bits, in one form for the whole range and fewer
/// operations than `exp_any`: 2^k as the normal `2^(k + 512)` and then `2^-512`, so that a
/// result in the subnormal range rounds once, in the last product. [`sigmoid`] needs no
/// other range; native code writes this out.
#[inline(always)]
fn exp_nonpositive(x: f64) -> f64 {
    // Below the floor the result is zero (a NaN stays NaN: the comparison is false).
    let x = if x < EXP_FLOOR { EXP_FLOOR } else { x };
    let (y, _, k) = exp_reduced(x);
    y * pow2(k.wrapping_add(DOWNSCALE)) * DOWNSCALED_ONE
}

/// `(e^r, k, k)` with `x = k ln2 + r`, `k` as a double and as the low bits of a word.
#[inline(always)]
fn exp_reduced(x: f64) -> (f64, f64, u64) {
    let (kf, k) = round_split(x * LOG2_E);
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let pair = |i: usize| E[i] + r * E[i + 1];
    let low = (pair(0) + r2 * pair(2)) + r4 * (pair(4) + r2 * pair(6));
    let high = pair(8) + r2 * pair(10);
    (1.0 + (r + r2 * (low + r8 * high)), kf, k)
}

// ------------------------------------------------------------------ sin, cos

/// π/2 in six parts (fdlibm's): the first 33 bits, then 33 more, then the rest, each with
/// its own tail, so that `n * part` is exact for |n| < 2^20.
const PIO2_1: f64 = 1.570_796_326_734_125_614_17e+00;
const PIO2_2: f64 = 6.077_100_506_303_965_976_60e-11;
const PIO2_2T: f64 = 2.022_266_248_795_950_631_54e-21;
const PIO2_3: f64 = 2.022_266_248_711_166_455_80e-21;
const PIO2_3T: f64 = 8.478_427_660_368_899_569_97e-32;

/// Below this |x| the reduction is exact enough (`n` fits 20 bits).
const TRIG_LIMIT: f64 = 1048576.0;

const S1: f64 = -1.666_666_666_666_663_243_48e-01;
const S2: f64 = 8.333_333_333_322_489_461_24e-03;
const S3: f64 = -1.984_126_982_985_794_931_34e-04;
const S4: f64 = 2.755_731_370_707_006_767_89e-06;
const S5: f64 = -2.505_076_025_340_686_341_95e-08;
const S6: f64 = 1.589_690_995_211_550_102_21e-10;

const C1: f64 = 4.166_666_666_666_660_190_37e-02;
const C2: f64 = -1.388_888_888_887_410_957_49e-03;
const C3: f64 = 2.480_158_728_947_672_941_78e-05;
const C4: f64 = -2.755_731_435_139_066_330_35e-07;
const C5: f64 = 2.087_572_321_298_174_827_90e-09;
const C6: f64 = -1.135_964_755_778_819_482_65e-11;

/// `x = n π/2 + (y0 + y1)` with |y0 + y1| ≤ π/4 (|x| < [`TRIG_LIMIT`]): three rounds of
/// Cody-Waite reduction (good to 151 bits, enough for every cancellation), and `n mod 4`.
#[inline(always)]
fn reduce_pio2(x: f64) -> (f64, f64, u64) {
    let (n, bits) = round_split(x * FRAC_2_PI);
    let mut r = x - n * PIO2_1;
    let mut w = 0.0;
    for (part, tail) in [(PIO2_2, PIO2_2T), (PIO2_3, PIO2_3T)] {
        let t = r;
        let p = n * part;
        r = t - p;
        w = n * tail - ((t - r) - p);
    }
    let y0 = r - w;
    (y0, (r - y0) - w, bits & 3)
}

/// sin(y0 + y1) for |y0 + y1| ≤ π/4 (fdlibm's `__kernel_sin`, degree-13 minimax, error
/// < 2^-58).
#[inline(always)]
fn sin_kernel(x: f64, y: f64) -> f64 {
    let z = x * x;
    let w = z * z;
    let r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    let v = z * x;
    x - ((z * (0.5 * y - v * r) - y) - v * S1)
}

/// cos(y0 + y1) for |y0 + y1| ≤ π/4 (fdlibm's `__kernel_cos`, degree-14 minimax, error
/// < 2^-58).
#[inline(always)]
fn cos_kernel(x: f64, y: f64) -> f64 {
    let z = x * x;
    let w = z * z;
    let r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let hz = 0.5 * z;
    let one_minus = 1.0 - hz;
    one_minus + (((1.0 - one_minus) - hz) + (z * r - x * y))
}

/// (sin x, cos x) for |x| < [`TRIG_LIMIT`] from one reduction by π/2, by quadrant: sin,
/// cos, -sin, -cos of the remainder for sin x, cos a quadrant on.
#[inline(always)]
fn sin_cos_reduced(x: f64) -> (f64, f64) {
    let (y0, y1, n) = reduce_pio2(x);
    let (sine, cosine) = (sin_kernel(y0, y1), cos_kernel(y0, y1));
    (quadrant(sine, cosine, n), quadrant(sine, cosine, n.wrapping_add(1)))
}

/// sin x for |x| < [`TRIG_LIMIT`].
#[inline(always)]
fn sin_reduced(x: f64) -> f64 {
    sin_cos_reduced(x).0
}

/// cos x for |x| < [`TRIG_LIMIT`].
#[inline(always)]
fn cos_reduced(x: f64) -> f64 {
    sin_cos_reduced(x).1
}

/// sin of `n π/2 + y` from `s = sin y` and `c = cos y`: s, c, -s, -c for `n mod 4` = 0..3
/// (cos is sin a quadrant on). Chosen with bit masks, not branches: the quadrant of a
/// chain of values is unpredictable.
#[inline(always)]
fn quadrant(s: f64, c: f64, n: u64) -> f64 {
    let odd = (n & 1).wrapping_neg();
    let sign = (n & 2) << 62;
    f64::from_bits(((s.to_bits() & !odd) | (c.to_bits() & odd)) ^ sign)
}

/// Below this |x|, `x` is its own remainder (`n = 0`): the kernels take it as it is, with
/// the same bits as after the reduction, which then gives `y0 = x`, `y1 = 0`.
const QUARTER_PI_BELOW: f64 = 0.78;

/// True where the fast sine and cosine apply (not for infinities and NaN).
#[inline(always)]
fn trig_fits(x: f64) -> bool {
    x.abs() < TRIG_LIMIT
}

/// sin x, within 1 ulp of the standard library's (which it calls for |x| ≥ 2^20, where
/// Payne-Hanek reduction is needed, and for infinities and NaN).
#[inline(always)]
pub fn sin(x: f64) -> f64 {
    if x.abs() < QUARTER_PI_BELOW {
        sin_kernel(x, 0.0)
    } else if trig_fits(x) {
        sin_reduced(x)
    } else {
        x.sin()
    }
}

/// cos x, within 1 ulp of the standard library's (which it calls where [`sin`] does).
#[inline(always)]
pub fn cos(x: f64) -> f64 {
    if x.abs() < QUARTER_PI_BELOW {
        cos_kernel(x, 0.0)
    } else if trig_fits(x) {
        cos_reduced(x)
    } else {
        x.cos()
    }
}

/// ([`sin`] x, [`cos`] x), the same bits, from one reduction by π/2: where native code
/// needs both of one value, one call in place of two.
#[inline(always)]
pub fn sin_cos(x: f64) -> (f64, f64) {
    if x.abs() < QUARTER_PI_BELOW {
        (sin_kernel(x, 0.0), cos_kernel(x, 0.0))
    } else if trig_fits(x) {
        sin_cos_reduced(x)
    } else {
        (x.sin(), x.cos())
    }
}

// ------------------------------------------------------------------ tanh

/// Above this |x|, `1 - 2/(e^2|x| + 1)` loses nothing to cancellation.
const TANH_SMALL: f64 = 0.55;

/// tanh x for |x| ≥ [`TANH_SMALL`]: `1 - 2/(e^2|x| + 1)` with the sign of x; ±1 once
/// `e^2|x|` overflows.
#[inline(always)]
fn tanh_large(x: f64) -> f64 {
    let t = 1.0 - 2.0 / (exp_any(2.0 * x.abs()) + 1.0);
    if x < 0.0 {
        -t
    } else {
        t
    }
}

/// True where the fast tanh applies (not near 0, nor for NaN).
#[inline(always)]
fn tanh_fits(x: f64) -> bool {
    x.abs() >= TANH_SMALL
}

/// tanh x, within 2 ulp of the standard library's (which it calls for |x| < 0.55, where
/// the fast formula would cancel, and for NaN).
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    if tanh_fits(x) {
        tanh_large(x)
    } else {
        x.tanh()
    }
}

// ------------------------------------------------------------------ sigmoid

/// 1 / (1 + e^-x) without overflow for large |x|: with `e = e^-|x|`, `1/(1 + e)` for x >= 0
/// and `e/(1 + e)` below. Within 2 ulp of the same formula with the standard library's
/// `exp`.
#[inline(always)]
pub fn sigmoid(x: f64) -> f64 {
    sigmoid_by(x, exp)
}

/// [`sigmoid`] with `exp` either form of the exponential (the same bits).
#[inline(always)]
fn sigmoid_by(x: f64, exp: impl Fn(f64) -> f64) -> f64 {
    let e = exp(-x.abs());
    let numerator = if x >= 0.0 { 1.0 } else { e };
    numerator / (1.0 + e)
}

// ------------------------------------------------------------------ many values at once

/// `out[i] = fast(xs[i])` where `fits`, else `slow(xs[i])`: the fast form on every lane
/// (a loop without branches, which the compiler vectorises), then the other lanes again.
/// Gives the same bits as calling the scalar function on each value.
#[inline(always)]
fn lanes_with(
    out: &mut [f64],
    xs: &[f64],
    fast: impl Fn(f64) -> f64,
    fits: impl Fn(f64) -> bool,
    slow: impl Fn(f64) -> f64,
) {
    for (o, &x) in out.iter_mut().zip(xs) {
        *o = fast(x);
    }
    for (o, &x) in out.iter_mut().zip(xs) {
        if !fits(x) {
            *o = slow(x);
        }
    }
}

/// [`exp`] of every value of `xs`, into `out`.
#[inline(always)]
pub fn exp_lanes(out: &mut [f64], xs: &[f64]) {
    lanes_with(out, xs, exp_any, |_| true, exp_any);
}

/// [`sin`] of every value of `xs`, into `out`.
#[inline(always)]
pub fn sin_lanes(out: &mut [f64], xs: &[f64]) {
    lanes_with(out, xs, sin_reduced, trig_fits, f64::sin);
}

/// [`cos`] of every value of `xs`, into `out`.
#[inline(always)]
pub fn cos_lanes(out: &mut [f64], xs: &[f64]) {
    lanes_with(out, xs, cos_reduced, trig_fits, f64::cos);
}

/// [`sin`] and [`cos`] of every value of `xs` from one reduction by π/2 (each of them
/// computes both kernels anyway), with the same bits as [`sin_lanes`] and [`cos_lanes`].
#[inline(always)]
pub fn sin_cos_lanes(sines: &mut [f64], cosines: &mut [f64], xs: &[f64]) {
    for ((s, c), &x) in sines.iter_mut().zip(cosines.iter_mut()).zip(xs) {
        (*s, *c) = sin_cos_reduced(x);
    }
    for ((s, c), &x) in sines.iter_mut().zip(cosines.iter_mut()).zip(xs) {
        if !trig_fits(x) {
            (*s, *c) = (x.sin(), x.cos());
        }
    }
}

/// [`tanh`] of every value of `xs`, into `out`.
#[inline(always)]
pub fn tanh_lanes(out: &mut [f64], xs: &[f64]) {
    lanes_with(out, xs, tanh_large, tanh_fits, f64::tanh);
}

/// [`sigmoid`] of every value of `xs`, into `out`.
#[inline(always)]
pub fn sigmoid_lanes(out: &mut [f64], xs: &[f64]) {
    let f = |x| sigmoid_by(x, exp_nonpositive);
    lanes_with(out, xs, f, |_| true, f);
}
