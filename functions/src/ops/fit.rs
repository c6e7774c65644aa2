//! `encode` with `max_bytes`: the highest quality whose output fits, in at most [`MAX_ENCODES`].
//!
//! Output size grows with quality but not strictly (a step up can save a byte), so the search is
//! a bisection over 1..=quality that keeps the best fitting output it has actually encoded, never
//! a guessed one. It first tries the requested quality (most requests fit at once), and keeps its
//! last encode for quality 1 while nothing has fitted, so a failure is always measured at the
//! smallest output the format can make. With six encodes the answer is within a few quality steps
//! of the true best (from 85: 84 → 42 → 21 → 11 → 6 → 3 candidates).
//! Formats without a quality (png, gif, lossless webp) are encoded once and checked.

use super::encode::{encode_at, EncodeParams};
use crate::error::ImageError;
use crate::raster::Raster;
use serde::Serialize;

/// The most encodes one search may run.
pub const MAX_ENCODES: u8 = 6;

/// What a search did, for the step's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Search {
    /// The quality of the output kept.
    pub quality: u8,
    /// How many encodes ran (≤ [`MAX_ENCODES`]).
    pub attempts: u8,
}

/// Encodes `src` (already flattened for JPEG) at the highest quality ≤ `p.quality` whose output
/// is at most `max` bytes.
pub fn encode_within(src: &Raster, p: &EncodeParams, max: u32) -> Result<(Vec<u8>, Search), ImageError> {
    let max_len = usize::try_from(max).unwrap_or(usize::MAX);
    let first = encode_at(src, p, p.quality)?;
    let mut attempts = 1;
    if first.len() <= max_len {
        return Ok((first, Search { quality: p.quality, attempts }));
    }
    let mut smallest = first.len();
    if !p.has_quality() {
        return Err(too_big(p, max, smallest, "it has no quality to lower"));
    }
    // Invariant: every quality ≥ `hi` was too big; `best` is the highest that fitted (≥ `lo`).
    let (mut lo, mut hi) = (1u8, p.quality);
    let mut best: Option<(u8, Vec<u8>)> = None;
    while attempts < MAX_ENCODES {
        let q = match (&best, hi - lo > 1) {
            // The last encode goes to quality 1 while nothing fitted (`hi` > 1: not yet tried),
            // so a failure is measured at the format's smallest output.
            (None, _) if attempts + 1 == MAX_ENCODES && hi > 1 => 1,
            (_, true) => lo + (hi - lo) / 2,
            (None, false) if hi > 1 => 1,
            _ => break,
        };
        let out = encode_at(src, p, q)?;
        attempts += 1;
        smallest = smallest.min(out.len());
        if out.len() <= max_len {
            lo = q;
            best = Some((q, out));
        } else {
            hi = q;
        }
    }
    match best {
        Some((quality, bytes)) => Ok((bytes, Search { quality, attempts })),
        None => Err(too_big(p, max, smallest, "even at quality 1")),
    }
}

fn too_big(p: &EncodeParams, max: u32, smallest: usize, why: &str) -> ImageError {
    let format = p.format.format().name();
    ImageError::Params(format!("max_bytes is {max} but the smallest {format} output reached is {smallest} bytes ({why})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::encode::OutputFormat;
    use crate::raster::Layout;

    /// A 64×64 photo-like raster (gradients and texture) whose size falls steadily with quality.
    fn photo() -> Raster {
        let px = (0..64 * 64).flat_map(|i| {
            let (x, y) = (i % 64, i / 64);
            [(x * 4) as u8, (y * 4) as u8, ((x * y * 7) % 251) as u8]
        });
        Raster::new(64, 64, Layout::Rgb8, px.collect()).expect("raster")
    }

    fn size_at(p: &EncodeParams, q: u8) -> usize {
        encode_at(&photo(), p, q).expect("encode").len()
    }

    #[test]
    fn output_fits_within_six_quality_steps_of_the_best_that_does() {
        for format in [OutputFormat::Jpeg, OutputFormat::Webp] {
            let p = EncodeParams::new(format, 90);
            let max = (size_at(&p, 30) + size_at(&p, 60)) / 2;
            let best = (1..=90).rev().find(|&q| size_at(&p, q) <= max).expect("some quality fits");
            let (bytes, search) = encode_within(&photo(), &p, max as u32).expect("fits");
            assert!(bytes.len() <= max, "{format:?}: {} > {max}", bytes.len());
            assert!(search.attempts <= MAX_ENCODES);
            assert!(search.quality <= best && search.quality + 6 >= best, "{format:?}: {} vs best {best}", search.quality);
            assert_eq!(bytes.len(), size_at(&p, search.quality), "the output is the chosen quality's");
        }
    }

    #[test]
    fn a_size_the_requested_quality_meets_takes_one_encode() {
        let p = EncodeParams::new(OutputFormat::Jpeg, 70);
        let (_, search) = encode_within(&photo(), &p, u32::MAX).expect("fits");
        assert_eq!(search, Search { quality: 70, attempts: 1 });
    }

    #[test]
    fn too_small_a_budget_fails_with_the_smallest_size_reached() {
        let p = EncodeParams::new(OutputFormat::Webp, 80);
        let smallest = size_at(&p, 1);
        let err = encode_within(&photo(), &p, 10).unwrap_err();
        assert_eq!(err.code(), "invalid_chain");
        assert!(err.to_string().contains(&format!("is {smallest} bytes")), "{err}");
    }

    #[test]
    fn formats_without_quality_are_checked_once() {
        let p = EncodeParams::new(OutputFormat::Png, 85);
        let err = encode_within(&photo(), &p, 10).unwrap_err();
        assert!(err.to_string().contains("no quality"), "{err}");
    }
}
