//! Constants as the graph holds them: exact rationals for what the user wrote as whole
//! numbers or ratios and everything computed exactly from them (`1/3`, `-2/3`), floats for
//! the decimals a user wrote (`0.5*m*v^2` stays `0.5`). Arithmetic stays exact while both
//! sides are exact and fits in `i64`; past that it falls back to floats, and a float on
//! either side gives a float.

use num_rational::Ratio;
use num_traits::{CheckedAdd, CheckedMul, One, Signed, ToPrimitive, Zero};

/// A constant: exact, or a float stored by its bits so that nodes can be hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Number {
    /// An exact rational in lowest terms, denominator positive.
    Exact(Ratio<i64>),
    /// A float's bits (never a whole number that fits [`Number::Exact`]; `-0.0` is `0`).
    Float(u64),
}

/// Hashes the parts as stored: an exact rational is always in lowest terms, so equal numbers
/// hash alike without `Ratio`'s own hash (a division per step of a continued fraction).
impl std::hash::Hash for Number {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Number::Exact(r) => (0u8, *r.numer(), *r.denom()).hash(state),
            Number::Float(bits) => (1u8, *bits).hash(state),
        }
    }
}

/// Whole floats up to this magnitude become exact integers.
const EXACT_WHOLE: f64 = 9_007_199_254_740_992.0; // 2^53

impl Number {
    /// The integer `n`.
    pub fn int(n: i64) -> Number {
        Number::Exact(Ratio::from_integer(n))
    }

    /// `p/q` (`q` non-zero).
    pub fn ratio(p: i64, q: i64) -> Number {
        Number::Exact(Ratio::new(p, q))
    }

    /// The float `v`; a whole `v` is exact.
    pub fn float(v: f64) -> Number {
        if v.fract() == 0.0 && v.abs() <= EXACT_WHOLE {
            return Number::int(v as i64);
        }
        Number::Float(v.to_bits())
    }

    /// Its value as the nearest f64.
    pub fn to_f64(self) -> f64 {
        match self {
            Number::Exact(r) => {
                let (p, q) = (*r.numer(), *r.denom());
                if q == 1 {
                    p as f64
                } else {
                    r.to_f64().unwrap_or(p as f64 / q as f64)
                }
            }
            Number::Float(bits) => f64::from_bits(bits),
        }
    }

    /// True for an exact rational.
    pub fn is_exact(self) -> bool {
        matches!(self, Number::Exact(_))
    }

    /// The exact rational, if it is one.
    pub fn exact(self) -> Option<Ratio<i64>> {
        match self {
            Number::Exact(r) => Some(r),
            Number::Float(_) => None,
        }
    }

    /// True for a whole number (exact, or a float without fraction).
    pub fn is_integer(self) -> bool {
        match self {
            Number::Exact(r) => r.is_integer(),
            Number::Float(bits) => f64::from_bits(bits).fract() == 0.0,
        }
    }

    /// True for zero.
    pub fn is_zero(self) -> bool {
        self.to_f64() == 0.0
    }

    /// True for one.
    pub fn is_one(self) -> bool {
        self == Number::int(1)
    }

    /// True below zero.
    pub fn is_negative(self) -> bool {
        self.to_f64() < 0.0
    }

    /// `1/self`, `None` for an exact zero.
    pub fn recip(self) -> Option<Number> {
        match self.exact() {
            Some(r) if r.is_zero() => None,
            Some(r) if *r.numer() != i64::MIN => Some(Number::Exact(r.recip())),
            _ => Some(Number::float(1.0 / self.to_f64())),
        }
    }

    /// `self ^ e` when it is exact or a float is involved; `None` when exact operands give
    /// an irrational or undefined result (`2^(1/2)`, `0^-1`), which stays symbolic.
    pub fn pow(self, e: Number) -> Option<Number> {
        let (Some(base), Some(exp)) = (self.exact(), e.exact()) else {
            return Some(Number::float(self.to_f64().powf(e.to_f64())));
        };
        let (p, q) = (*exp.numer(), *exp.denom());
        let root = exact_root(base, q)?;
        if root.is_zero() && p < 0 {
            return None;
        }
        let magnitude =
            checked_powi(root, p.unsigned_abs()).map(Number::Exact).unwrap_or_else(|| {
                Number::float(root.to_f64().unwrap_or(f64::NAN).powf(p.abs() as f64))
            });
        if p < 0 {
            magnitude.recip()
        } else {
            Some(magnitude)
        }
    }

    /// `(numerator, denominator)` for printing: `(p, q)` of an exact rational; a float is
    /// its own numerator over 1.
    pub fn fraction(self) -> (Number, i64) {
        match self {
            Number::Exact(r) => (Number::int(*r.numer()), *r.denom()),
            Number::Float(_) => (self, 1),
        }
    }
}

impl std::ops::Neg for Number {
    type Output = Number;

    fn neg(self) -> Number {
        match self {
            Number::Exact(r) if *r.numer() != i64::MIN => Number::Exact(-r),
            _ => Number::float(-self.to_f64()),
        }
    }
}

impl std::ops::Add for Number {
    type Output = Number;

    fn add(self, other: Number) -> Number {
        self.combine(other, |a, b| a.checked_add(&b), |x, y| x + y)
    }
}

impl std::ops::Mul for Number {
    type Output = Number;

    fn mul(self, other: Number) -> Number {
        // Whole numbers multiply without the rationals' gcd steps (a product's coefficient
        // meets every factor's, mostly 1 or -1).
        if let (Number::Exact(a), Number::Exact(b)) = (self, other) {
            if a.is_integer() && b.is_integer() {
                if let Some(p) = a.numer().checked_mul(b.numer()) {
                    return Number::int(p);
                }
            }
        }
        self.combine(other, |a, b| a.checked_mul(&b), |x, y| x * y)
    }
}

impl Number {
    /// `exact(a, b)` while both are exact and it fits in `i64`; else `float(x, y)`.
    fn combine(
        self,
        other: Number,
        exact: impl Fn(Ratio<i64>, Ratio<i64>) -> Option<Ratio<i64>>,
        float: impl Fn(f64, f64) -> f64,
    ) -> Number {
        match (self.exact(), other.exact()) {
            (Some(a), Some(b)) => exact(a, b).map(Number::Exact),
            _ => None,
        }
        .unwrap_or_else(|| Number::float(float(self.to_f64(), other.to_f64())))
    }
}

/// The exact `q`-th root of `r` (a positive `q`), if it is rational.
fn exact_root(r: Ratio<i64>, q: i64) -> Option<Ratio<i64>> {
    if q == 1 {
        return Some(r);
    }
    if r.is_negative() {
        // Odd roots of negative numbers are real, but `^` of a negative base with a
        // fractional exponent is NaN in evaluation: stay consistent and keep it symbolic.
        return None;
    }
    let n = integer_root(*r.numer(), q)?;
    let d = integer_root(*r.denom(), q)?;
    Some(Ratio::new(n, d))
}

/// The exact `q`-th root of a non-negative integer, if there is one.
fn integer_root(n: i64, q: i64) -> Option<i64> {
    if n < 2 {
        return Some(n);
    }
    let guess = (n as f64).powf(1.0 / q as f64).round() as i64;
    (guess.max(1) - 1..=guess + 1)
        .find(|&c| checked_powi(Ratio::from_integer(c), q as u64) == Some(Ratio::from_integer(n)))
}

fn checked_powi(r: Ratio<i64>, mut n: u64) -> Option<Ratio<i64>> {
    let mut acc = Ratio::one();
    let mut base = r;
    while n > 0 {
        if n & 1 == 1 {
            acc = acc.checked_mul(&base)?;
        }
        n >>= 1;
        if n > 0 {
            base = base.checked_mul(&base)?;
        }
    }
    Some(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_arithmetic_stays_exact() {
        let third = Number::ratio(1, 3);
        assert_eq!(third + third + third, Number::int(1));
        assert_eq!(third * Number::int(3), Number::int(1));
        assert_eq!(Number::int(4).pow(Number::ratio(1, 2)), Some(Number::int(2)));
        assert_eq!(Number::int(8).pow(Number::ratio(-2, 3)), Some(Number::ratio(1, 4)));
        assert_eq!(Number::int(2).pow(Number::ratio(1, 2)), None);
        assert_eq!(Number::int(0).pow(Number::int(-1)), None);
        assert_eq!(Number::float(2.0), Number::int(2));
        assert!(!Number::float(0.5).is_exact());
        assert!(!(Number::float(0.5) + third).is_exact());
    }

    #[test]
    fn overflow_falls_back_to_floats() {
        let big = Number::int(i64::MAX);
        assert!(!(big * big).is_exact());
        assert_eq!((big * big).to_f64(), (i64::MAX as f64).powi(2));
        assert!(Number::int(3).pow(Number::int(100)).is_some_and(|n| !n.is_exact()));
    }
}
