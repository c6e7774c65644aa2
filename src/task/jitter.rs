//! Jitter for retry backoff: a per-isolate splitmix64 sequence.

/// A number in [0, 1) for backoff jitter: a splitmix64 sequence seeded once per isolate from the
/// platform's randomness. Jitter needs spread, not secrecy, and every call to the object makes
/// a tick, where a `getrandom` each time cost a bridge call for a number rarely used.
pub fn next() -> f64 {
    thread_local! {
        static STATE: std::cell::Cell<u64> = std::cell::Cell::new({
            let mut b = [0u8; 8];
            // Without randomness the sequence is fixed, and the backoff still valid.
            getrandom::getrandom(&mut b).map_or(0x9e37_79b9_7f4a_7c15, |()| u64::from_le_bytes(b))
        });
    }
    let mut z = STATE.with(|s| {
        let next = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        s.set(next);
        next
    });
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn jitter_stays_in_the_unit_interval_and_spreads() {
        let draws: Vec<f64> = (0..1000).map(|_| super::next()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let low = draws.iter().filter(|d| **d < 0.5).count();
        assert!((400..600).contains(&low), "{low} of 1000 below 0.5");
    }
}
