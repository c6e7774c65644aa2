//! The per-thread tally of live and peak heap bytes that both counting allocators feed
//! (`counting.rs`: Rust's global allocator; `c_heap.rs`: every C `malloc`, Rust's included).
//! Per thread because tests run on parallel threads.

use std::cell::Cell;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Adds `delta` bytes to this thread's live count (negative for a release).
pub fn count(delta: isize) {
    let _ = LIVE.try_with(|live| {
        live.set(live.get() + delta);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

/// Runs `f`; returns its result and the most bytes it held at once.
pub fn peak<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    (out, (PEAK.with(Cell::get) - start).max(0) as u64)
}
