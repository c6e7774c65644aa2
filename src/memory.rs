//! The isolate's memory cap, as the Worker sees it: the wasm linear memory is linked with a
//! maximum of [`ISOLATE_MEMORY_BYTES`] (`.cargo/config.toml`), and a job checks its planned peak
//! against it before it starts.
//!
//! Why only a check, not a reservation: past the cap an allocation cannot fail softly in Rust,
//! it aborts (a wasm trap, which the JS glue survives by re-creating the module for the next
//! call). A peak no isolate could hold is refused here, cleanly. Reserving the peak as one
//! block first was tried and refused work that fits: the planner's peak is the sum of several
//! buffers, which fit into the free space linear memory already has, while one block of that
//! size must come from growth on top of it (a 90 MB reservation failed with 54 MiB of mostly
//! free memory below it).
//!
//! What lives in it: every allocation goes through a counting wrapper of the system allocator
//! ([`heap`]), so a benchmark can tell our own heap (which must return to its level once work is
//! done) from linear memory (which never shrinks) and from the runtime's memory around it.

use std::sync::OnceLock;
use thiserror::Error;

/// The module's allocator: the system one (dlmalloc on wasm), counted. Wasm only: host tests
/// keep the plain system allocator, and their threads would make the counts meaningless anyway.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// When this instance of the module was first asked for its [`heap`] (ms since the epoch; not
/// at start-up, where workerd's clock reads 0): a different value later means the module was
/// re-created (after a trap), and its counts started again from zero.
static STARTED_MS: OnceLock<u64> = OnceLock::new();

/// The linked maximum of the wasm linear memory: the 128 MiB an isolate may use.
pub const ISOLATE_MEMORY_BYTES: u64 = 128 << 20;

/// What the module itself takes before any request (statics, stack, the glue's tables), with
/// margin: a peak above `ISOLATE_MEMORY_BYTES - BASELINE_BYTES` can never fit.
pub const BASELINE_BYTES: u64 = 8 << 20;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MemoryError {
    /// The peak exceeds what an empty isolate has: no retry can help.
    #[error(
        "needs {needed_mib} MiB at its peak; a worker has {usable_mib} MiB for image work \
         (a {cap_mib} MiB isolate)",
        needed_mib = mib(*needed), usable_mib = mib(ISOLATE_MEMORY_BYTES - BASELINE_BYTES), cap_mib = mib(ISOLATE_MEMORY_BYTES)
    )]
    NeverFits { needed: u64 },
}

fn mib(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

/// Refuses a `peak` that no isolate could hold.
pub fn check(peak: u64) -> Result<(), MemoryError> {
    match peak > ISOLATE_MEMORY_BYTES - BASELINE_BYTES {
        true => Err(MemoryError::NeverFits { needed: peak }),
        false => Ok(()),
    }
}

/// Size of the wasm linear memory: it only grows, so after a step it is the high-water mark.
pub fn linear_memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) as u64 * 65_536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// The allocator's view of this instance of the module (zeros off wasm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heap {
    /// Bytes allocated and not yet freed.
    pub live_bytes: u64,
    /// The most that were ever live at once: the heap's high-water mark.
    pub peak_live_bytes: u64,
    /// Every byte ever allocated (grows with work; a throughput figure, not a level).
    pub allocated_bytes_total: u64,
    /// See [`STARTED_MS`].
    pub instance_started_ms: u64,
}

/// The allocator's counts now (read by `GET /__bench/memory`).
pub fn heap() -> Heap {
    let instance_started_ms = *STARTED_MS.get_or_init(crate::clock::now_millis);
    #[cfg(target_arch = "wasm32")]
    {
        let as_u64 = |n: usize| n as u64;
        Heap {
            live_bytes: as_u64(ALLOCATOR.allocated()),
            peak_live_bytes: as_u64(ALLOCATOR.max_allocated()),
            allocated_bytes_total: as_u64(ALLOCATOR.total_allocated()),
            instance_started_ms,
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Heap { live_bytes: 0, peak_live_bytes: 0, allocated_bytes_total: 0, instance_started_ms }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peak_beyond_the_isolate_is_refused_with_the_figures() {
        let e = check(200 << 20).expect_err("200 MiB cannot fit 128");
        assert_eq!(e, MemoryError::NeverFits { needed: 200 << 20 });
        assert_eq!(e.to_string(), "needs 200 MiB at its peak; a worker has 120 MiB for image work (a 128 MiB isolate)");
    }

    #[test]
    fn a_peak_that_fits_passes_up_to_the_usable_figure() {
        assert_eq!(check(0), Ok(()));
        assert_eq!(check(ISOLATE_MEMORY_BYTES - BASELINE_BYTES), Ok(()));
        assert!(check(ISOLATE_MEMORY_BYTES - BASELINE_BYTES + 1).is_err());
    }
}
