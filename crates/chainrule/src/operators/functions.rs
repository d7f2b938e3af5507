//! The function table: one row per function node. A row gives the name the syntax uses,
//! the arguments, the kernel that evaluates it (the same code for the interpreter, native
//! code and constant folding), its LaTeX, and its spelling in each code-generation target.
//! Templates write `$0`, `$1`, `$2` for the arguments; a call of a `cr_` name is a helper
//! that generated code defines (the stable forms). Adding a function is one row here and
//! one arm in `diff/rules.rs`.

use super::fastmath as fm;
use super::kernels as k;

/// How a function evaluates, by arity.
#[derive(Clone, Copy, Debug)]
pub enum Kernel {
    /// `f(a)`
    Unary(extern "C" fn(f64) -> f64),
    /// `f(a, b)`
    Binary(extern "C" fn(f64, f64) -> f64),
    /// `f(a, b, c)`
    Ternary(extern "C" fn(f64, f64, f64) -> f64),
}

/// A function's spelling in each code-generation target (templates over `$0`, `$1`, `$2`).
#[derive(Clone, Copy, Debug)]
pub struct Code {
    /// Rust, over `f64`.
    pub rust: &'static str,
    /// C99 with `math.h`.
    pub c: &'static str,
    /// Python with NumPy (`np`), vectorised.
    pub python: &'static str,
    /// SQL.
    pub sql: &'static str,
}

/// One row of the function table.
#[derive(Clone, Copy, Debug)]
pub struct FuncRow {
    /// The function.
    pub func: Func,
    /// Its name in the formula syntax.
    pub name: &'static str,
    /// What it computes, in a few words.
    pub doc: &'static str,
    /// How it evaluates.
    pub kernel: Kernel,
    /// LaTeX template.
    pub latex: &'static str,
    /// Code-generation templates.
    pub code: Code,
}

macro_rules! kernel {
    (($a:ident) $body:expr) => {
        Kernel::Unary({
            extern "C" fn kernel($a: f64) -> f64 {
                $body
            }
            kernel
        })
    };
    (($a:ident, $b:ident) $body:expr) => {
        Kernel::Binary({
            extern "C" fn kernel($a: f64, $b: f64) -> f64 {
                $body
            }
            kernel
        })
    };
    (($a:ident, $b:ident, $c:ident) $body:expr) => {
        Kernel::Ternary({
            extern "C" fn kernel($a: f64, $b: f64, $c: f64) -> f64 {
                $body
            }
            kernel
        })
    };
}

macro_rules! function_table {
    ($(
        #[doc = $doc:literal]
        $variant:ident $name:literal ($($arg:ident),+) => $body:expr,
            latex $latex:literal,
            code [$rust:literal, $c:literal, $python:literal, $sql:literal];
    )*) => {
        /// The functions of the formula language (arithmetic is [`super::Operator`]).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Func {
            $(#[doc = $doc] $variant,)*
        }

        /// Every row, in the order of [`Func`]'s variants.
        static ROWS: &[FuncRow] = &[$(
            FuncRow {
                func: Func::$variant,
                name: $name,
                doc: $doc,
                kernel: kernel!(($($arg),+) $body),
                latex: $latex,
                code: Code { rust: $rust, c: $c, python: $python, sql: $sql },
            },
        )*];

        impl Func {
            /// Every function, in table order.
            pub const ALL: &'static [Func] = &[$(Func::$variant),*];
        }
    };
}

function_table! {
    /// sine
    Sin "sin" (x) => fm::sin(x), latex r"\sin\left($0\right)",
        code ["$0.sin()", "sin($0)", "np.sin($0)", "SIN($0)"];
    /// cosine
    Cos "cos" (x) => fm::cos(x), latex r"\cos\left($0\right)",
        code ["$0.cos()", "cos($0)", "np.cos($0)", "COS($0)"];
    /// tangent
    Tan "tan" (x) => x.tan(), latex r"\tan\left($0\right)",
        code ["$0.tan()", "tan($0)", "np.tan($0)", "TAN($0)"];
    /// arc sine
    Asin "asin" (x) => x.asin(), latex r"\arcsin\left($0\right)",
        code ["$0.asin()", "asin($0)", "np.arcsin($0)", "ASIN($0)"];
    /// arc cosine
    Acos "acos" (x) => x.acos(), latex r"\arccos\left($0\right)",
        code ["$0.acos()", "acos($0)", "np.arccos($0)", "ACOS($0)"];
    /// arc tangent
    Atan "atan" (x) => x.atan(), latex r"\arctan\left($0\right)",
        code ["$0.atan()", "atan($0)", "np.arctan($0)", "ATAN($0)"];
    /// hyperbolic sine
    Sinh "sinh" (x) => x.sinh(), latex r"\sinh\left($0\right)",
        code ["$0.sinh()", "sinh($0)", "np.sinh($0)", "SINH($0)"];
    /// hyperbolic cosine
    Cosh "cosh" (x) => x.cosh(), latex r"\cosh\left($0\right)",
        code ["$0.cosh()", "cosh($0)", "np.cosh($0)", "COSH($0)"];
    /// hyperbolic tangent
    Tanh "tanh" (x) => fm::tanh(x), latex r"\tanh\left($0\right)",
        code ["$0.tanh()", "tanh($0)", "np.tanh($0)", "TANH($0)"];
    // libm's: std's overflows above 9e307
    /// inverse hyperbolic sine
    Asinh "asinh" (x) => libm::asinh(x), latex r"\operatorname{arsinh}\left($0\right)",
        code ["$0.asinh()", "asinh($0)", "np.arcsinh($0)", "ASINH($0)"];
    // libm's: std's `ln(x + sqrt(x - 1)*sqrt(x + 1))` loses half the digits at 1 + 2^-52
    // and overflows above 9e307
    /// inverse hyperbolic cosine (x >= 1)
    Acosh "acosh" (x) => libm::acosh(x), latex r"\operatorname{arcosh}\left($0\right)",
        code ["$0.acosh()", "acosh($0)", "np.arccosh($0)", "ACOSH($0)"];
    // libm's, odd by construction: std's `ln_1p(2x/(1 - x))/2` loses digits next to -1
    /// inverse hyperbolic tangent (|x| < 1)
    Atanh "atanh" (x) => libm::atanh(x), latex r"\operatorname{artanh}\left($0\right)",
        code ["$0.atanh()", "atanh($0)", "np.arctanh($0)", "ATANH($0)"];
    /// e^x
    Exp "exp" (x) => fm::exp(x), latex r"e^{$0}",
        code ["$0.exp()", "exp($0)", "np.exp($0)", "EXP($0)"];
    /// e^x - 1, exact near 0
    Expm1 "expm1" (x) => x.exp_m1(), latex r"\operatorname{expm1}\left($0\right)",
        code ["$0.exp_m1()", "expm1($0)", "np.expm1($0)", "cr_expm1($0)"];
    /// natural logarithm
    Ln "ln" (x) => x.ln(), latex r"\ln\left($0\right)",
        code ["$0.ln()", "log($0)", "np.log($0)", "LN($0)"];
    /// ln(1 + x), exact near 0
    Log1p "log1p" (x) => x.ln_1p(), latex r"\operatorname{log1p}\left($0\right)",
        code ["$0.ln_1p()", "log1p($0)", "np.log1p($0)", "cr_log1p($0)"];
    /// logarithm base 2
    Log2 "log2" (x) => x.log2(), latex r"\log_{2}\left($0\right)",
        code ["$0.log2()", "log2($0)", "np.log2($0)", "LOG2($0)"];
    /// logarithm base 10
    Log10 "log10" (x) => x.log10(), latex r"\log_{10}\left($0\right)",
        code ["$0.log10()", "log10($0)", "np.log10($0)", "LOG10($0)"];
    /// square root
    Sqrt "sqrt" (x) => x.sqrt(), latex r"\sqrt{$0}",
        code ["$0.sqrt()", "sqrt($0)", "np.sqrt($0)", "SQRT($0)"];
    /// cube root (of negative numbers too)
    Cbrt "cbrt" (x) => x.cbrt(), latex r"\sqrt[3]{$0}",
        code ["$0.cbrt()", "cbrt($0)", "np.cbrt($0)", "CBRT($0)"];
    /// absolute value
    Abs "abs" (x) => x.abs(), latex r"\left|$0\right|",
        code ["$0.abs()", "fabs($0)", "np.abs($0)", "ABS($0)"];
    /// error function
    Erf "erf" (x) => libm::erf(x), latex r"\operatorname{erf}\left($0\right)",
        code ["cr_erf($0)", "erf($0)", "cr_erf($0)", "cr_erf($0)"];
    /// complementary error function 1 - erf(x), accurate in the tail
    Erfc "erfc" (x) => libm::erfc(x), latex r"\operatorname{erfc}\left($0\right)",
        code ["cr_erfc($0)", "erfc($0)", "cr_erfc($0)", "cr_erfc($0)"];
    /// 1 / (1 + e^-x), computed stably
    Sigmoid "sigmoid" (x) => k::sigmoid(x), latex r"\operatorname{sigmoid}\left($0\right)",
        code ["cr_sigmoid($0)", "cr_sigmoid($0)", "cr_sigmoid($0)", "cr_sigmoid($0)"];
    /// ln(1 + e^x), computed stably
    Softplus "softplus" (x) => k::softplus(x), latex r"\operatorname{softplus}\left($0\right)",
        code ["cr_softplus($0)", "cr_softplus($0)", "cr_softplus($0)", "cr_softplus($0)"];
    /// max(x, 0)
    Relu "relu" (x) => k::relu(x), latex r"\operatorname{relu}\left($0\right)",
        code ["cr_relu($0)", "cr_relu($0)", "np.maximum($0, 0.0)", "GREATEST($0, 0.0)"];
    /// x*Φ(x), the exact Gaussian error linear unit
    Gelu "gelu" (x) => k::gelu(x), latex r"\operatorname{gelu}\left($0\right)",
        code ["cr_gelu($0)", "cr_gelu($0)", "cr_gelu($0)", "cr_gelu($0)"];
    /// x*sigmoid(x) (also called swish)
    Silu "silu" (x) => k::silu(x), latex r"\operatorname{silu}\left($0\right)",
        code ["cr_silu($0)", "cr_silu($0)", "cr_silu($0)", "cr_silu($0)"];
    /// x for x > 0, else e^x - 1
    Elu "elu" (x) => k::elu(x), latex r"\operatorname{elu}\left($0\right)",
        code ["cr_elu($0)", "cr_elu($0)", "cr_elu($0)", "cr_elu($0)"];
    /// -1, 0 or 1
    Sign "sign" (x) => k::sign(x), latex r"\operatorname{sign}\left($0\right)",
        code ["cr_sign($0)", "cr_sign($0)", "np.sign($0)", "SIGN($0)"];
    /// 1 for x > 0, else 0
    Step "step" (x) => k::step(x), latex r"\operatorname{step}\left($0\right)",
        code ["cr_step($0)", "cr_step($0)", "cr_step($0)", "cr_step($0)"];
    /// the largest whole number <= x
    Floor "floor" (x) => x.floor(), latex r"\left\lfloor $0\right\rfloor",
        code ["$0.floor()", "floor($0)", "np.floor($0)", "FLOOR($0)"];
    /// the smallest whole number >= x
    Ceil "ceil" (x) => x.ceil(), latex r"\left\lceil $0\right\rceil",
        code ["$0.ceil()", "ceil($0)", "np.ceil($0)", "CEIL($0)"];
    /// the nearest whole number, halves away from zero
    Round "round" (x) => x.round(), latex r"\operatorname{round}\left($0\right)",
        code ["$0.round()", "round($0)", "cr_round($0)", "cr_round($0)"];
    /// atan2(y, x), the angle of the point (x, y)
    Atan2 "atan2" (y, x) => y.atan2(x), latex r"\operatorname{atan2}\left($0, $1\right)",
        code ["$0.atan2($1)", "atan2($0, $1)", "np.arctan2($0, $1)", "ATAN2($0, $1)"];
    /// sqrt(a^2 + b^2) without overflow
    Hypot "hypot" (a, b) => a.hypot(b), latex r"\operatorname{hypot}\left($0, $1\right)",
        code ["$0.hypot($1)", "hypot($0, $1)", "np.hypot($0, $1)", "cr_hypot($0, $1)"];
    /// the smaller of two
    Min "min" (a, b) => k::min(a, b), latex r"\min\left($0, $1\right)",
        code ["cr_min($0, $1)", "cr_min($0, $1)", "cr_min($0, $1)", "LEAST($0, $1)"];
    /// the larger of two
    Max "max" (a, b) => k::max(a, b), latex r"\max\left($0, $1\right)",
        code ["cr_max($0, $1)", "cr_max($0, $1)", "cr_max($0, $1)", "GREATEST($0, $1)"];
    /// x for x > 0, else a*x
    LeakyRelu "leaky_relu" (x, a) => k::leaky_relu(x, a),
        latex r"\operatorname{leaky\_relu}\left($0, $1\right)",
        code ["cr_leaky_relu($0, $1)", "cr_leaky_relu($0, $1)", "cr_leaky_relu($0, $1)",
            "cr_leaky_relu($0, $1)"];
    /// x limited to [lo, hi] (NaN when lo > hi)
    Clamp "clamp" (x, lo, hi) => k::clamp(x, lo, hi),
        latex r"\operatorname{clamp}\left($0, $1, $2\right)",
        code ["cr_clamp($0, $1, $2)", "cr_clamp($0, $1, $2)", "cr_clamp($0, $1, $2)",
            "cr_clamp($0, $1, $2)"];
}

impl Func {
    /// The function's row.
    pub fn row(self) -> &'static FuncRow {
        &ROWS[self as usize]
    }

    /// The name in the formula syntax.
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// How many arguments it takes.
    pub fn arity(self) -> usize {
        match self.row().kernel {
            Kernel::Unary(_) => 1,
            Kernel::Binary(_) => 2,
            Kernel::Ternary(_) => 3,
        }
    }

    /// The function called `name`, if any (aliases such as `swish` are in
    /// [`super::callables`]).
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Its value at `args` (the first [`Func::arity`] of them count).
    pub fn eval_f64(self, args: [f64; 3]) -> f64 {
        match self.row().kernel {
            Kernel::Unary(f) => f(args[0]),
            Kernel::Binary(f) => f(args[0], args[1]),
            Kernel::Ternary(f) => f(args[0], args[1], args[2]),
        }
    }

    /// Its value at `args` in any float type (computed in f64, then rounded to `F`).
    pub fn eval<F: num_traits::Float>(self, args: [F; 3]) -> F {
        let wide = args.map(|a| a.to_f64().unwrap_or(f64::NAN));
        F::from(self.eval_f64(wide)).unwrap_or_else(F::nan)
    }
}
