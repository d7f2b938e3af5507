//! The numeric kernels of the functions whose plain formula would lose accuracy or overflow:
//! each is the one implementation that the interpreter, native code and constant folding
//! call (native code writes `sigmoid` out operation for operation), so all three give the
//! same bits.

use num_traits::Float;
use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

pub use super::fastmath::sigmoid;

/// ln(1 + e^x) as max(x, 0) + ln(1 + e^-|x|): no overflow, no loss of small values.
pub fn softplus<F: Float>(x: F) -> F {
    if x.is_nan() {
        return x;
    }
    x.max(F::zero()) + softplus_tail(x)
}

/// ln(1 + e^-|x|), the part of [`softplus`] that `softplus(x)` and `softplus(-x)` share.
pub fn softplus_tail<F: Float>(x: F) -> F {
    (-x.abs()).exp().ln_1p()
}

/// ln(sum(e^x_i)) with the largest term factored out.
pub fn logsumexp<F: Float>(xs: impl Iterator<Item = F> + Clone) -> F {
    let m = xs.clone().fold(F::neg_infinity(), |m, x| if x > m || x.is_nan() { x } else { m });
    if m.is_nan() || m.is_infinite() {
        return m;
    }
    m + xs.map(|x| (x - m).exp()).fold(F::zero(), |s, t| s + t).ln()
}

/// `x` for x > 0 (and NaN), else 0.
pub fn relu(x: f64) -> f64 {
    if x > 0.0 || x.is_nan() {
        x
    } else {
        0.0
    }
}

/// -1, 0 or 1 (NaN stays NaN).
pub fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x * 0.0
    }
}

/// 1 for x > 0, else 0 (NaN stays NaN).
pub fn step(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x.is_nan() {
        x
    } else {
        0.0
    }
}

/// The smaller of two; NaN if either is.
pub fn min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a <= b {
        a
    } else {
        b
    }
}

/// The larger of two; NaN if either is.
pub fn max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a >= b {
        a
    } else {
        b
    }
}

/// `x` limited to `[lo, hi]`; NaN when `lo > hi` (no such interval) or any input is NaN.
pub fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    if lo > hi {
        return f64::NAN;
    }
    min(max(x, lo), hi)
}

/// 1/√2 - `FRAC_1_SQRT_2`: the part of 1/√2 that the f64 constant leaves out.
const FRAC_1_SQRT_2_LO: f64 = -4.833646656726457e-17;

/// The exact GELU, `x * Φ(x)`, with `Φ(x) = erfc(-x/√2)/2`: no cancellation for x < 0.
/// The rounding error `δ` of `u = -x/√2` would move `erfc(u)` by about `2u²δ/u` relative
/// (150 ulp at x = -30), so it is computed (by `mul_add`) and taken back to first order.
pub fn gelu(x: f64) -> f64 {
    let u = -x * FRAC_1_SQRT_2;
    if !u.is_finite() {
        return x * 0.5 * libm::erfc(u);
    }
    let delta = (-x).mul_add(FRAC_1_SQRT_2, -u) - x * FRAC_1_SQRT_2_LO;
    let tail = libm::erfc(u) - delta * FRAC_2_SQRT_PI * (-u * u).exp();
    x * 0.5 * tail
}

/// `x * sigmoid(x)`.
pub fn silu(x: f64) -> f64 {
    x * sigmoid(x)
}

/// `x` for x > 0, else `e^x - 1` (by `expm1`, exact near 0).
pub fn elu(x: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        x.exp_m1()
    }
}

/// `x` for x > 0, else `a*x`.
pub fn leaky_relu(x: f64, a: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        a * x
    }
}
