//! An order of a tape's instructions that keeps values short-lived, for native code,
//! whose register allocator spills what lives long.
//!
//! The compiler lists a gradient's instructions as the graph was built: the whole forward
//! pass, then the whole backward pass, so every forward value lives until its backward
//! reader, and in machine code most of them are spilled to the stack. Here each
//! instruction runs as soon as the last of its operands is made (the most recently readied
//! first), and an instruction that reads only inputs and constants runs when a waiting user
//! needs it, not before: a backward step follows the forward steps it reads, as in a
//! hand-written loop. Only independent instructions change places, so every value is the
//! same. (The interpreter keeps the compiler's order: its instructions pass values through
//! memory, and it runs faster when neighbours do not depend on each other.)

use super::steps::Readers;
use smallvec::SmallVec;

/// The instructions of a tape in a new order, given for each instruction (in a topological
/// order) the instructions whose values it reads (distinct). Linear in the instructions and
/// operands, save the walks down to an instruction that reads no instruction, each bounded
/// by the longest chain of operands, and the looks for a waiting instruction's first
/// missing operand (three operands at most, but for a logsumexp).
pub(crate) fn schedule(operands: &[SmallVec<[u32; 3]>]) -> Vec<u32> {
    let n = operands.len();
    // The longest path of computed operands below each instruction: the deepest missing
    // operand is made first, which starts a chain at its beginning.
    let mut depth = vec![0u32; n];
    for k in 0..n {
        depth[k] = operands[k].iter().map(|&o| depth[o as usize] + 1).max().unwrap_or(0);
    }
    let mut missing: Vec<u32> = operands.iter().map(|ops| ops.len() as u32).collect();
    // Of those, the ones that read some instruction themselves (depth above 0).
    let mut deep_missing: Vec<u32> = (operands.iter())
        .map(|ops| ops.iter().filter(|&&o| depth[o as usize] > 0).count() as u32)
        .collect();
    let users = Readers::new(n, operands);
    let mut done = vec![false; n];
    let mut waiting = vec![false; n];
    let (mut ready, mut near, mut pending) = (Vec::new(), Vec::new(), Vec::new());
    let mut order = Vec::with_capacity(n);
    let (mut next_leaf, mut oldest) = (0, 0);
    while order.len() < n {
        while near.last().is_some_and(|&p: &u32| done[p as usize]) {
            near.pop();
        }
        let k = if let Some(k) = ready.pop() {
            k
        } else if let Some(&p) = near.last() {
            *operands[p as usize].iter().find(|&&o| !done[o as usize]).unwrap()
        } else {
            while pending.get(oldest).is_some_and(|&p: &u32| done[p as usize]) {
                oldest += 1;
            }
            match pending.get(oldest) {
                // Down a waiting instruction's missing operands to one that reads only
                // inputs and constants.
                Some(&p) => {
                    let mut k = p;
                    while missing[k as usize] > 0 {
                        let ops = operands[k as usize].iter().filter(|&&o| !done[o as usize]);
                        k = *ops.max_by_key(|&&o| depth[o as usize]).unwrap();
                    }
                    k
                }
                None => {
                    while done[next_leaf] {
                        next_leaf += 1;
                    }
                    next_leaf as u32
                }
            }
        };
        done[k as usize] = true;
        order.push(k);
        for &u in users.of(k) {
            missing[u as usize] -= 1;
            deep_missing[u as usize] -= u32::from(depth[k as usize] > 0);
            if missing[u as usize] == 0 {
                ready.push(u);
            } else if deep_missing[u as usize] == 0 {
                near.push(u);
            } else if !std::mem::replace(&mut waiting[u as usize], true) {
                pending.push(u);
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `order` is a permutation of `0..n` with every instruction after its operands.
    fn is_topological(operands: &[SmallVec<[u32; 3]>], order: &[u32]) -> bool {
        let mut at = vec![usize::MAX; operands.len()];
        for (p, &k) in order.iter().enumerate() {
            at[k as usize] = p;
        }
        order.len() == operands.len()
            && at.iter().all(|&p| p != usize::MAX)
            && (0..operands.len()).all(|k| operands[k].iter().all(|&o| at[o as usize] < at[k]))
    }

    /// The most values made and not yet read for the last time, over `order`.
    fn most_live(operands: &[SmallVec<[u32; 3]>], order: &[u32]) -> usize {
        let mut last = vec![0; operands.len()];
        for (p, &k) in order.iter().enumerate() {
            for &o in &operands[k as usize] {
                last[o as usize] = p;
            }
        }
        let (mut live, mut most) = (0usize, 0);
        for (p, &k) in order.iter().enumerate() {
            live += 1;
            most = most.max(live);
            live -= operands[k as usize].iter().filter(|&&o| last[o as usize] == p).count();
        }
        most
    }

    /// A forward pass of `n` values each read by a backward step listed after all of
    /// them, plus a sum of the backward steps: the shape of a gradient tape.
    fn forward_then_backward(n: u32) -> Vec<SmallVec<[u32; 3]>> {
        let mut ops: Vec<SmallVec<[u32; 3]>> = Vec::new();
        for k in 0..n {
            // forward value k reads the one before it
            ops.push(if k == 0 { SmallVec::new() } else { SmallVec::from_slice(&[k - 1]) });
        }
        for k in 0..n {
            // backward step of k: reads forward value k (and an input)
            ops.push(SmallVec::from_slice(&[k]));
        }
        for k in 0..n - 1 {
            // sum: running total and the next backward step
            let total = if k == 0 { n } else { 2 * n + k - 1 };
            ops.push(SmallVec::from_slice(&[total, n + k + 1]));
        }
        ops
    }

    #[test]
    fn backward_steps_follow_their_forward_values() {
        let ops = forward_then_backward(50);
        let given: Vec<u32> = (0..ops.len() as u32).collect();
        let order = schedule(&ops);
        assert!(is_topological(&ops, &order));
        assert!(most_live(&ops, &given) > 50);
        assert!(most_live(&ops, &order) <= 4, "{}", most_live(&ops, &order));
    }

    #[test]
    fn every_instruction_once_after_its_operands() {
        // a pseudo-random DAG: each instruction reads up to three earlier ones
        let mut state = 12345u64;
        let mut next = |m: u32| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) % u64::from(m)) as u32
        };
        let mut ops: Vec<SmallVec<[u32; 3]>> = Vec::new();
        for k in 0..2000u32 {
            let mut o: SmallVec<[u32; 3]> = (0..next(4).min(k)).map(|_| next(k)).collect();
            o.sort_unstable();
            o.dedup();
            ops.push(o);
        }
        assert!(is_topological(&ops, &schedule(&ops)));
        assert!(schedule(&[]).is_empty());
    }
}
