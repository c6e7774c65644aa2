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
use serde::{Deserialize, Serialize};

/// The most encodes one search may run.
pub const MAX_ENCODES: u8 = 6;

/// What a search did, for the step's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Search {
    /// The quality of the output kept.
    pub quality: u8,
    /// How many encodes ran (≤ [`MAX_ENCODES`]).
    pub attempts: u8,
}

/// One encode of a search, as a step reports it while the search goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Which encode of the search this was, from 1 (at most [`MAX_ENCODES`]).
    pub encode: u8,
    pub quality: u8,
    pub bytes: u64,
    /// Whether this output is within `max_bytes`.
    pub fits: bool,
}

/// The search one encode at a time, so that a caller can report each encode before the next
/// (a 1600×1200 lossy WebP encode takes most of a second): [`Fitter::next_quality`] says what
/// to encode, [`Fitter::record`] takes the output, [`Fitter::finish`] gives the result.
#[derive(Debug)]
pub struct Fitter {
    max: usize,
    max_bytes: u32,
    requested: u8,
    has_quality: bool,
    format: &'static str,
    attempts: u8,
    /// Every quality ≥ `hi` was too big; `best` is the highest that fitted (≥ `lo`).
    lo: u8,
    hi: u8,
    best: Option<(u8, Vec<u8>)>,
    smallest: usize,
}

impl Fitter {
    pub fn new(p: &EncodeParams, max: u32) -> Fitter {
        Fitter {
            max: usize::try_from(max).unwrap_or(usize::MAX),
            max_bytes: max,
            requested: p.quality,
            has_quality: p.has_quality(),
            format: p.format.format().name(),
            attempts: 0,
            lo: 1,
            hi: p.quality,
            best: None,
            smallest: usize::MAX,
        }
    }

    /// The quality to encode next; `None` once the search is over.
    pub fn next_quality(&self) -> Option<u8> {
        if self.attempts == 0 {
            return Some(self.requested);
        }
        // The requested quality fitted (most requests do), or there is nothing to lower.
        let first_fitted = self.attempts == 1 && self.best.is_some();
        if first_fitted || !self.has_quality || self.attempts >= MAX_ENCODES {
            return None;
        }
        let (lo, hi) = (self.lo, self.hi);
        match (&self.best, hi - lo > 1) {
            // The last encode goes to quality 1 while nothing fitted (`hi` > 1: not yet tried),
            // so a failure is measured at the format's smallest output.
            (None, _) if self.attempts + 1 == MAX_ENCODES && hi > 1 => Some(1),
            (_, true) => Some(lo + (hi - lo) / 2),
            (None, false) if hi > 1 => Some(1),
            _ => None,
        }
    }

    /// Takes the output of the encode at `quality` (what [`Fitter::next_quality`] said).
    pub fn record(&mut self, quality: u8, out: Vec<u8>) -> Attempt {
        self.attempts += 1;
        let fits = out.len() <= self.max;
        self.smallest = self.smallest.min(out.len());
        let attempt = Attempt { encode: self.attempts, quality, bytes: out.len() as u64, fits };
        match fits {
            true => {
                self.lo = quality;
                self.best = Some((quality, out));
            }
            false => self.hi = quality,
        }
        attempt
    }

    /// The best output that fitted, or why none did.
    pub fn finish(self) -> Result<(Vec<u8>, Search), ImageError> {
        let attempts = self.attempts;
        match self.best {
            Some((quality, bytes)) => Ok((bytes, Search { quality, attempts })),
            None => {
                let why = if self.has_quality { "even at quality 1" } else { "it has no quality to lower" };
                let format = self.format;
                Err(ImageError::Params(format!(
                    "max_bytes is {} but the smallest {format} output reached is {} bytes ({why})",
                    self.max_bytes, self.smallest
                )))
            }
        }
    }
}

/// Encodes `src` (already flattened for JPEG) at the highest quality ≤ `p.quality` whose output
/// is at most `max` bytes, with `exif` in the file when the encoder writes it ([`encode_at`]).
pub fn encode_within(src: &Raster, p: &EncodeParams, max: u32, exif: Option<&[u8]>) -> Result<(Vec<u8>, Search), ImageError> {
    let mut fitter = Fitter::new(p, max);
    while let Some(quality) = fitter.next_quality() {
        fitter.record(quality, encode_at(src, p, quality, exif)?);
    }
    fitter.finish()
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
        encode_at(&photo(), p, q, None).expect("encode").len()
    }

    #[test]
    fn output_fits_within_six_quality_steps_of_the_best_that_does() {
        for format in [OutputFormat::Jpeg, OutputFormat::Webp] {
            let p = EncodeParams::new(format, 90);
            let max = (size_at(&p, 30) + size_at(&p, 60)) / 2;
            let best = (1..=90).rev().find(|&q| size_at(&p, q) <= max).expect("some quality fits");
            let (bytes, search) = encode_within(&photo(), &p, max as u32, None).expect("fits");
            assert!(bytes.len() <= max, "{format:?}: {} > {max}", bytes.len());
            assert!(search.attempts <= MAX_ENCODES);
            assert!(search.quality <= best && search.quality + 6 >= best, "{format:?}: {} vs best {best}", search.quality);
            assert_eq!(bytes.len(), size_at(&p, search.quality), "the output is the chosen quality's");
        }
    }

    #[test]
    fn a_stepped_search_reports_every_encode_and_ends_as_the_whole_search() {
        let p = EncodeParams::new(OutputFormat::Jpeg, 90);
        let max = (size_at(&p, 30) + size_at(&p, 60)) / 2;
        let mut fitter = Fitter::new(&p, max as u32);
        let mut seen = Vec::new();
        while let Some(q) = fitter.next_quality() {
            seen.push(fitter.record(q, encode_at(&photo(), &p, q, None).expect("encode")));
        }
        let (bytes, search) = fitter.finish().expect("fits");
        assert_eq!((bytes.clone(), search), encode_within(&photo(), &p, max as u32, None).expect("fits"));
        assert_eq!(seen.iter().map(|a| a.encode).collect::<Vec<_>>(), (1..=search.attempts).collect::<Vec<_>>());
        assert!(seen.iter().all(|a| a.fits == (a.bytes as usize <= max) && a.bytes as usize == size_at(&p, a.quality)));
        assert!(!seen[0].fits && seen[0].quality == 90, "the requested quality is tried first: {seen:?}");
        let best = seen.iter().filter(|a| a.fits).max_by_key(|a| a.quality).expect("one fitted");
        assert_eq!((best.quality, best.bytes as usize), (search.quality, bytes.len()));
    }

    #[test]
    fn a_size_the_requested_quality_meets_takes_one_encode() {
        let p = EncodeParams::new(OutputFormat::Jpeg, 70);
        let (_, search) = encode_within(&photo(), &p, u32::MAX, None).expect("fits");
        assert_eq!(search, Search { quality: 70, attempts: 1 });
    }

    #[test]
    fn too_small_a_budget_fails_with_the_smallest_size_reached() {
        let p = EncodeParams::new(OutputFormat::Webp, 80);
        let smallest = size_at(&p, 1);
        let err = encode_within(&photo(), &p, 10, None).unwrap_err();
        assert_eq!(err.code(), "invalid_chain");
        assert!(err.to_string().contains(&format!("is {smallest} bytes")), "{err}");
    }

    #[test]
    fn formats_without_quality_are_checked_once() {
        let p = EncodeParams::new(OutputFormat::Png, 85);
        let err = encode_within(&photo(), &p, 10, None).unwrap_err();
        assert!(err.to_string().contains("no quality"), "{err}");
    }
}
