//! The part of batch evaluation every runner shares: rows split into chunks for rayon's
//! threads, and per-chunk sums added up in chunk order, so that results do not depend on
//! how many threads ran.
//!
//! Within a chunk, a sum over rows is [`RUNNING`] running sums, row `r` going to sum
//! `r % RUNNING`, added up at the end of the chunk: the interpreter adds a block's rows
//! several at a time (vector operations) rather than each row waiting for the one before,
//! and the native runner, a row at a time, adds in the same order, so both give the same
//! bits.

use super::{Reduce, BLOCK};
use num_traits::Float;
use rayon::prelude::*;

/// Running sums per output in a chunk (see the module's documentation).
const RUNNING: usize = 8;

/// Rows per rayon task.
pub(crate) const CHUNK: usize = 2048;

// Chunks and blocks start at rows that go to the first running sum.
const _: () = assert!(CHUNK.is_multiple_of(BLOCK) && BLOCK.is_multiple_of(RUNNING));

/// Where a chunk's results go: running sums, or the rows of an output matrix.
pub(crate) enum Sink<'a, F> {
    /// For each output, [`RUNNING`] sums of the chunk's rows (row `r` in sum `r % RUNNING`).
    Sums(Vec<F>),
    /// Every row's outputs; `first` is the chunk's first row.
    Rows { first: usize, width: usize, out: &'a mut [F] },
}

impl<F: Float> Sink<'_, F> {
    /// Adds one row's outputs (the native runner's way; the interpreter adds lanes).
    #[cfg_attr(not(feature = "native"), allow(dead_code))]
    pub(crate) fn row(&mut self, row: usize, values: &[F]) {
        match self {
            Sink::Sums(sums) => {
                let lane = row % RUNNING;
                for (k, &v) in values.iter().enumerate() {
                    let s = &mut sums[k * RUNNING + lane];
                    *s = *s + v;
                }
            }
            Sink::Rows { first, width, out } => {
                out[(row - *first) * *width..][..*width].copy_from_slice(values);
            }
        }
    }

    /// Adds output `k` of the consecutive rows starting at `row`.
    pub(crate) fn lanes(&mut self, k: usize, row: usize, values: &[F]) {
        match self {
            Sink::Sums(sums) => {
                debug_assert_eq!(row % RUNNING, 0, "blocks start at the first running sum");
                let running = &mut sums[k * RUNNING..][..RUNNING];
                // Kept in registers across the rows (a slice would be stored each time).
                let mut acc: [F; RUNNING] = std::array::from_fn(|j| running[j]);
                let mut rows = values.chunks_exact(RUNNING);
                for some in &mut rows {
                    for j in 0..RUNNING {
                        acc[j] = acc[j] + some[j];
                    }
                }
                running.copy_from_slice(&acc);
                running.iter_mut().zip(rows.remainder()).for_each(|(s, &v)| *s = *s + v);
            }
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
            let mut sink = Sink::Sums(vec![F::zero(); width * RUNNING]);
            chunk(s, e, &mut sink);
            match sink {
                Sink::Sums(lanes) => {
                    lanes.chunks(RUNNING).map(|l| l.iter().fold(F::zero(), |s, &v| s + v)).collect()
                }
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
