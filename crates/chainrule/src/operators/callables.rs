//! Every name the syntax may call, and the named constants: the function rows, their
//! aliases, `log` and `pow`, and the reducers and losses that take lists. Lowering looks a
//! call up here; "did you mean" hints and reserved names come from the same list.

use super::Func;
use std::sync::LazyLock;

/// The reducers and losses: calls that take lists and expand into graph nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reducer {
    /// `sum(list)`
    Sum,
    /// `mean(list)`
    Mean,
    /// `logsumexp(list)`, computed stably
    LogSumExp,
    /// `dot(list, list)`
    Dot,
    /// `mse(pred, target)`: mean of squared differences
    Mse,
    /// `cross_entropy(p, y)`: `-sum(y_i * ln(p_i))`
    CrossEntropy,
    /// `bce(p, y)`: binary cross-entropy, the mean over a list
    Bce,
    /// `softmax_cross_entropy(logits, y)`, computed stably
    SoftmaxCrossEntropy,
    /// `prod(A)`: the product of the elements
    Prod,
    /// `max(A)`: the largest element
    Max,
    /// `min(A)`: the smallest element
    Min,
    /// `norm(A)`: the Euclidean (Frobenius) norm
    Norm,
}

/// Functions of whole arrays that give arrays or shape facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArrayFn {
    /// `transpose(A)`
    Transpose,
    /// `outer(a, b)`: the matrix `a[i]*b[j]`
    Outer,
    /// `softmax(v)`, computed stably
    Softmax,
    /// `len(v)`: a vector's length
    Len,
    /// `rows(A)`
    Rows,
    /// `cols(A)`
    Cols,
}

/// What a called name means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callable {
    /// A function node.
    Func(Func),
    /// `log(x)` is `ln(x)`; `log(x, b)` is `ln(x)/ln(b)`.
    Log,
    /// `pow(a, b)` is `a^b`.
    Pow,
    /// A reducer or loss over lists.
    Reduce(Reducer),
    /// A function of whole arrays.
    Array(ArrayFn),
}

/// The arguments a callable takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Args {
    /// Exactly this many numbers.
    Numbers(usize),
    /// One number, or two.
    OneOrTwoNumbers,
    /// One list.
    List,
    /// Two lists of one length; with `numbers_ok`, also two numbers.
    TwoLists {
        /// Two plain numbers are accepted as one-item lists.
        numbers_ok: bool,
    },
    /// Two arrays of any shapes.
    TwoArrays,
}

impl Args {
    /// What it takes, in words, for error messages.
    pub fn describe(self) -> String {
        match self {
            Args::Numbers(1) => "1 argument".into(),
            Args::Numbers(n) => format!("{n} arguments"),
            Args::OneOrTwoNumbers => "1 or 2 arguments".into(),
            Args::List => "1 list".into(),
            Args::TwoLists { .. } | Args::TwoArrays => "2 lists".into(),
        }
    }

    /// Whether `n` arguments is the right count.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Args::Numbers(k) => n == k,
            Args::OneOrTwoNumbers => (1..=2).contains(&n),
            Args::List => n == 1,
            Args::TwoLists { .. } | Args::TwoArrays => n == 2,
        }
    }
}

/// One callable name.
#[derive(Clone, Copy, Debug)]
pub struct CallRow {
    /// The name in the syntax.
    pub name: &'static str,
    /// What it means.
    pub callable: Callable,
    /// What it takes.
    pub args: Args,
}

/// The callables that are not plain function rows (aliases, `log`, `pow`, reducers, losses,
/// functions of arrays). `max` and `min` of one array follow their two-argument rows.
const EXTRA: [CallRow; 21] = [
    extra("swish", Callable::Func(Func::Silu), Args::Numbers(1)),
    extra("log", Callable::Log, Args::OneOrTwoNumbers),
    extra("pow", Callable::Pow, Args::Numbers(2)),
    extra("sum", Callable::Reduce(Reducer::Sum), Args::List),
    extra("mean", Callable::Reduce(Reducer::Mean), Args::List),
    extra("logsumexp", Callable::Reduce(Reducer::LogSumExp), Args::List),
    extra("dot", Callable::Reduce(Reducer::Dot), Args::TwoLists { numbers_ok: false }),
    extra("mse", Callable::Reduce(Reducer::Mse), Args::TwoLists { numbers_ok: true }),
    extra(
        "cross_entropy",
        Callable::Reduce(Reducer::CrossEntropy),
        Args::TwoLists { numbers_ok: false },
    ),
    extra("bce", Callable::Reduce(Reducer::Bce), Args::TwoLists { numbers_ok: true }),
    extra(
        "softmax_cross_entropy",
        Callable::Reduce(Reducer::SoftmaxCrossEntropy),
        Args::TwoLists { numbers_ok: false },
    ),
    extra("prod", Callable::Reduce(Reducer::Prod), Args::List),
    extra("max", Callable::Reduce(Reducer::Max), Args::List),
    extra("min", Callable::Reduce(Reducer::Min), Args::List),
    extra("norm", Callable::Reduce(Reducer::Norm), Args::List),
    extra("transpose", Callable::Array(ArrayFn::Transpose), Args::List),
    extra("outer", Callable::Array(ArrayFn::Outer), Args::TwoArrays),
    extra("softmax", Callable::Array(ArrayFn::Softmax), Args::List),
    extra("len", Callable::Array(ArrayFn::Len), Args::List),
    extra("rows", Callable::Array(ArrayFn::Rows), Args::List),
    extra("cols", Callable::Array(ArrayFn::Cols), Args::List),
];

const fn extra(name: &'static str, callable: Callable, args: Args) -> CallRow {
    CallRow { name, callable, args }
}

/// The named constants, kept symbolic in printed output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Constant {
    /// π
    Pi,
    /// Euler's number
    E,
}

impl Constant {
    /// Every named constant.
    pub const ALL: [Constant; 2] = [Constant::Pi, Constant::E];

    /// Its name in the syntax.
    pub fn name(self) -> &'static str {
        match self {
            Constant::Pi => "pi",
            Constant::E => "e",
        }
    }

    /// Its value.
    pub fn value(self) -> f64 {
        match self {
            Constant::Pi => std::f64::consts::PI,
            Constant::E => std::f64::consts::E,
        }
    }

    /// Its LaTeX.
    pub fn latex(self) -> &'static str {
        match self {
            Constant::Pi => "\\pi",
            Constant::E => "e",
        }
    }

    /// The constant called `name`.
    pub fn from_name(name: &str) -> Option<Constant> {
        Constant::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Every callable: the function rows, then the others.
pub static CALLABLES: LazyLock<Vec<CallRow>> = LazyLock::new(|| {
    Func::ALL
        .iter()
        .map(|&f| CallRow {
            name: f.name(),
            callable: Callable::Func(f),
            args: Args::Numbers(f.arity()),
        })
        .chain(EXTRA)
        .collect()
});

/// The callable named `name`.
pub fn lookup(name: &str) -> Option<CallRow> {
    CALLABLES.iter().find(|c| c.name == name).copied()
}

/// The callable named `name` that takes `n` arguments (`max(a, b)` or `max(A)`), else the
/// first of that name (whose arity error the caller reports).
pub fn lookup_call(name: &str, n: usize) -> Option<CallRow> {
    let rows = || CALLABLES.iter().filter(|c| c.name == name);
    rows().find(|c| c.args.accepts(n)).or_else(|| rows().next()).copied()
}

/// Every callable name once, in table order (`max` and `min` have two rows).
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for row in CALLABLES.iter() {
        if !names.contains(&row.name) {
            names.push(row.name);
        }
    }
    names
}

/// Names a program cannot assign: callables and constants.
pub fn is_reserved(name: &str) -> bool {
    lookup(name).is_some() || Constant::from_name(name).is_some()
}
