//! The part of batch evaluation every runner shares: rows split into chunks for rayon's
//! threads, and per-chunk sums added up in chunk order, so that results do not depend on
//! how many threads ran.

use super::Reduce;
use num_traits::Float;
use rayon::prelude::*;

/// Rows per rayon task.
pub(crate) const CHUNK: usize = 2048;

/// Where a chunk's results go: running sums, or the rows of an output matrix.
pub(crate) enum Sink<'a, F> {
    /// Sums of each output over the chunk's rows.
    Sums(Vec<F>),
    /// Every row's outputs; `first` is the chunk's first row.
    Rows { first: usize, width: usize, out: &'a mut [F] },
}

impl<F: Float> Sink<'_, F> {
    /// Adds one row's outputs (the native runner's way; the interpreter adds lanes).
    #[cfg_attr(not(feature = "native"), allow(dead_code))]
    pub(crate) fn row(&mut self, row: usize, values: &[F]) {
        match self {
            Sink::Sums(sums) => sums.iter_mut().zip(values).for_each(|(s, &v)| *s = *s + v),
            Sink::Rows { first, width, out } => {
                out[(row - *first) * *width..][..*width].copy_from_slice(values);
            }
        }
    }

    /// Adds output `k` of the consecutive rows starting at `row`.
    pub(crate) fn lanes(&mut self, k: usize, row: usize, values: &[F]) {
        match self {
            Sink::Sums(sums) => sums[k] = values.iter().fold(sums[k], |s, &v| s + v),
            Sink::Rows { first, width, out } => {
                for (i, &v) in values.iter().enumerate() {
                    out[(row - *first + i) * *width + k] = v;
                }
            }
        }
    }
}

/// Runs `chunk(start, end, sink)` over `rows` rows in parallel and reduces the results:
/// one value per output for [`Reduce::Mean`] and [`Reduce::Sum`], `rows * width` values
/// row by row for [`Reduce::None`].
pub(crate) fn in_chunks<F, C>(rows: usize, width: usize, reduce: Reduce, chunk: C) -> Vec<F>
where
    F: Float + Send + Sync,
    C: Fn(usize, usize, &mut Sink<F>) + Sync,
{
    let bounds: Vec<(usize, usize)> =
        (0..rows).step_by(CHUNK).map(|s| (s, (s + CHUNK).min(rows))).collect();
    if reduce == Reduce::None {
        let mut out = vec![F::zero(); rows * width];
        out.par_chunks_mut((CHUNK * width).max(1)).zip(&bounds).for_each(|(part, &(s, e))| {
            chunk(s, e, &mut Sink::Rows { first: s, width, out: part });
        });
        return out;
    }
    let partial: Vec<Vec<F>> = bounds
        .par_iter()
        .map(|&(s, e)| {
            let mut sink = Sink::Sums(vec![F::zero(); width]);
            chunk(s, e, &mut sink);
            match sink {
                Sink::Sums(sums) => sums,
                Sink::Rows { .. } => unreachable!("made as sums"),
            }
        })
        .collect();
    let mut total = vec![F::zero(); width];
    for sums in partial {
        total.iter_mut().zip(sums).for_each(|(t, v)| *t = *t + v);
    }
    if reduce == Reduce::Mean && rows > 0 {
        let n = F::from(rows).unwrap_or_else(F::nan);
        total.iter_mut().for_each(|t| *t = *t / n);
    }
    total
}
