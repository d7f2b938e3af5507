//! The operator table: every function's name, arity and numeric evaluation in one place,
//! so that the parser's lowering, the printer, the constant folder and the evaluator agree.

use num_traits::Float;

/// Functions of the formula language (the arithmetic operators are [`Op`] variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Func {
    /// sine
    Sin,
    /// cosine
    Cos,
    /// tangent
    Tan,
    /// arc sine
    Asin,
    /// arc cosine
    Acos,
    /// arc tangent
    Atan,
    /// hyperbolic sine
    Sinh,
    /// hyperbolic cosine
    Cosh,
    /// hyperbolic tangent
    Tanh,
    /// e^x
    Exp,
    /// natural logarithm
    Ln,
    /// square root
    Sqrt,
    /// absolute value
    Abs,
    /// 1 / (1 + e^-x), computed stably
    Sigmoid,
    /// max(x, 0)
    Relu,
    /// ln(1 + e^x), computed stably
    Softplus,
    /// -1, 0 or 1
    Sign,
    /// 1 for x > 0, else 0
    Step,
    /// atan2(y, x)
    Atan2,
    /// the smaller of two
    Min,
    /// the larger of two
    Max,
}

/// Every function, for lookups by name.
pub const FUNCS: [Func; 21] = [
    Func::Sin,
    Func::Cos,
    Func::Tan,
    Func::Asin,
    Func::Acos,
    Func::Atan,
    Func::Sinh,
    Func::Cosh,
    Func::Tanh,
    Func::Exp,
    Func::Ln,
    Func::Sqrt,
    Func::Abs,
    Func::Sigmoid,
    Func::Relu,
    Func::Softplus,
    Func::Sign,
    Func::Step,
    Func::Atan2,
    Func::Min,
    Func::Max,
];

impl Func {
    /// The name in the formula syntax.
    pub fn name(self) -> &'static str {
        match self {
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tan => "tan",
            Func::Asin => "asin",
            Func::Acos => "acos",
            Func::Atan => "atan",
            Func::Sinh => "sinh",
            Func::Cosh => "cosh",
            Func::Tanh => "tanh",
            Func::Exp => "exp",
            Func::Ln => "ln",
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
            Func::Sigmoid => "sigmoid",
            Func::Relu => "relu",
            Func::Softplus => "softplus",
            Func::Sign => "sign",
            Func::Step => "step",
            Func::Atan2 => "atan2",
            Func::Min => "min",
            Func::Max => "max",
        }
    }

    /// The function called `name`, if any.
    pub fn from_name(name: &str) -> Option<Func> {
        FUNCS.iter().copied().find(|f| f.name() == name)
    }

    /// How many arguments it takes.
    pub fn arity(self) -> usize {
        match self {
            Func::Atan2 | Func::Min | Func::Max => 2,
            _ => 1,
        }
    }

    /// Its value at `args` (one or two numbers, as [`Func::arity`] says).
    pub fn eval<F: Float>(self, a: F, b: F) -> F {
        let zero = F::zero();
        let one = F::one();
        match self {
            Func::Sin => a.sin(),
            Func::Cos => a.cos(),
            Func::Tan => a.tan(),
            Func::Asin => a.asin(),
            Func::Acos => a.acos(),
            Func::Atan => a.atan(),
            Func::Sinh => a.sinh(),
            Func::Cosh => a.cosh(),
            Func::Tanh => a.tanh(),
            Func::Exp => a.exp(),
            Func::Ln => a.ln(),
            Func::Sqrt => a.sqrt(),
            Func::Abs => a.abs(),
            Func::Sigmoid => sigmoid(a),
            Func::Relu => {
                if a > zero || a.is_nan() {
                    a
                } else {
                    zero
                }
            }
            Func::Softplus => softplus(a),
            Func::Sign => {
                if a > zero {
                    one
                } else if a < zero {
                    -one
                } else {
                    a * zero // 0 stays 0, NaN stays NaN
                }
            }
            Func::Step => {
                if a > zero {
                    one
                } else if a.is_nan() {
                    a
                } else {
                    zero
                }
            }
            Func::Atan2 => a.atan2(b),
            Func::Min => {
                if a.is_nan() || b.is_nan() {
                    F::nan()
                } else if a <= b {
                    a
                } else {
                    b
                }
            }
            Func::Max => {
                if a.is_nan() || b.is_nan() {
                    F::nan()
                } else if a >= b {
                    a
                } else {
                    b
                }
            }
        }
    }
}

/// 1 / (1 + e^-x) without overflow for large |x|.
pub fn sigmoid<F: Float>(x: F) -> F {
    if x >= F::zero() {
        F::one() / (F::one() + (-x).exp())
    } else {
        let z = x.exp();
        z / (F::one() + z)
    }
}

/// ln(1 + e^x) as max(x, 0) + ln(1 + e^-|x|): no overflow, no loss of small values.
pub fn softplus<F: Float>(x: F) -> F {
    if x.is_nan() {
        return x;
    }
    x.max(F::zero()) + (-x.abs()).exp().ln_1p()
}

/// ln(sum(e^x_i)) with the largest term factored out.
pub fn logsumexp<F: Float>(xs: impl Iterator<Item = F> + Clone) -> F {
    let m = xs.clone().fold(F::neg_infinity(), |m, x| if x > m || x.is_nan() { x } else { m });
    if m.is_nan() {
        return m;
    }
    if m.is_infinite() {
        return m;
    }
    m + xs.map(|x| (x - m).exp()).fold(F::zero(), |s, t| s + t).ln()
}

/// A node's operation. Operands live in the node, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A number, stored as its bits so that nodes can be hashed (`-0.0` is stored as `0.0`).
    Const(u64),
    /// A free variable, by its index in the graph's variable table.
    Var(u32),
    /// `a + b`
    Add,
    /// `a * b`
    Mul,
    /// `a ^ b`
    Pow,
    /// A function of one or two operands.
    Func(Func),
    /// `logsumexp([a, b, ...])` of any number of operands.
    LogSumExp,
}

impl Op {
    /// The constant with value `v`.
    pub fn constant(v: f64) -> Op {
        let v = if v == 0.0 { 0.0 } else { v };
        Op::Const(v.to_bits())
    }

    /// The value of a constant.
    pub fn value(self) -> Option<f64> {
        match self {
            Op::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    /// A short lower-case name for exports (`add`, `mul`, `sin`, ...).
    pub fn kind_name(self) -> &'static str {
        match self {
            Op::Const(_) => "const",
            Op::Var(_) => "var",
            Op::Add => "add",
            Op::Mul => "mul",
            Op::Pow => "pow",
            Op::Func(f) => f.name(),
            Op::LogSumExp => "logsumexp",
        }
    }
}
