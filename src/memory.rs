//! The isolate's memory cap, as the Worker sees it: the wasm linear memory is linked with a
//! maximum of [`ISOLATE_MEMORY_BYTES`] (`.cargo/config.toml`), and a job reserves its planned
//! peak before it starts.
//!
//! Why reserve: past the cap an allocation cannot fail softly in Rust, it aborts (a wasm trap).
//! The JS glue then re-creates the module for the next call, but the call that trapped ends in
//! an exception and anything else in flight in the isolate with it. Asking for the planned peak
//! in one fallible allocation first turns "this does not fit" into a clean failure of that one
//! job; and since linear memory never shrinks, the block, once freed, is still there for the
//! job's own buffers.

use thiserror::Error;

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
    /// It would fit an idle isolate, but this one is busy (other work holds memory): later.
    #[error(
        "needs {needed_mib} MiB at its peak, which this worker cannot spare right now \
         (its memory is at {used_mib} of {cap_mib} MiB)",
        needed_mib = mib(*needed), used_mib = mib(*used), cap_mib = mib(ISOLATE_MEMORY_BYTES)
    )]
    Busy { needed: u64, used: u64 },
}

fn mib(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

/// Makes sure `peak` bytes can be allocated, without aborting when they cannot.
pub fn reserve(peak: u64) -> Result<(), MemoryError> {
    if peak > ISOLATE_MEMORY_BYTES - BASELINE_BYTES {
        return Err(MemoryError::NeverFits { needed: peak });
    }
    let mut block: Vec<u8> = Vec::new();
    let size = usize::try_from(peak).map_err(|_| MemoryError::NeverFits { needed: peak })?;
    block.try_reserve_exact(size).map_err(|_| MemoryError::Busy { needed: peak, used: linear_memory_bytes() })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peak_beyond_the_isolate_is_refused_with_the_figures() {
        let e = reserve(200 << 20).expect_err("200 MiB cannot fit 128");
        assert_eq!(e, MemoryError::NeverFits { needed: 200 << 20 });
        assert_eq!(e.to_string(), "needs 200 MiB at its peak; a worker has 120 MiB for image work (a 128 MiB isolate)");
    }

    #[test]
    fn a_peak_that_fits_is_reserved() {
        assert_eq!(reserve(16 << 20), Ok(()));
        assert_eq!(reserve(0), Ok(()));
    }
}
