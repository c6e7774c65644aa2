//! `pixelate`: each block becomes its mean colour, in place, one band of block rows at a time.

use super::color::checked;
use super::{ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};

/// Bytes of one band of `size`-row blocks of a `w × h × ch` raster: at most the raster, so it
/// fits a `usize`. `size × w × ch` need not: on wasm32 a 1048576x1 RGBA image pixelated by 1024
/// made 2³², which wrapped to 0, and `chunks_mut(0)` panics.
fn band_len(size: usize, w: usize, h: usize, ch: usize) -> usize {
    size.min(h) * w * ch
}

/// `pixelate`: each `size`×`size` block becomes its mean colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pixelate {
    pub size: u32,
}

const BLOCK: Param<u32> = Param::uint("size", 2, 1024).default(8).examples(&[Lit::Int(16)]).describe("block side, pixels");

impl Operation for Pixelate {
    const DESCRIPTION: &'static str =
        "Pixelate: each size x size block becomes its average colour (blocks at the right and bottom edges may be smaller).";
    const PARAMS: &'static [&'static dyn Describe] = &[&BLOCK];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Pixelate { size: f.get(&BLOCK)? })
    }
    fn extra_bytes(&self, input: Shape, _output: Shape) -> u64 {
        super::effects::row_bytes(5, input) // a u32 sum and a mean per sample of a row
    }
    fn apply(&self, mut src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let (w, h, ch) = checked(&src)?;
        let size = self.size as usize;
        let (mut sums, mut means) = (vec![0u32; w.div_ceil(size) * ch], vec![0u8; w.div_ceil(size) * ch]);
        for band in src.pixels.chunks_mut(band_len(size, w, h, ch)) {
            sums.fill(0);
            let rows = band.len() / (w * ch);
            for row in band.chunks_exact(w * ch) {
                for (block, s) in row.chunks(size * ch).zip(sums.chunks_exact_mut(ch)) {
                    block.chunks_exact(ch).for_each(|p| s.iter_mut().zip(p).for_each(|(s, &v)| *s += u32::from(v)));
                }
            }
            for (b, (m, s)) in means.chunks_exact_mut(ch).zip(sums.chunks_exact(ch)).enumerate() {
                let n = (size.min(w - b * size) * rows) as u32;
                m.iter_mut().zip(s).for_each(|(m, &s)| *m = ((s + n / 2) / n) as u8);
            }
            for row in band.chunks_exact_mut(w * ch) {
                for (block, m) in row.chunks_mut(size * ch).zip(means.chunks_exact(ch)) {
                    block.chunks_exact_mut(ch).for_each(|p| p.copy_from_slice(m));
                }
            }
        }
        Ok(src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::color::tests::{parse, run};
    use crate::raster::Layout;
    use serde_json::json;

    fn luma(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> Raster {
        Raster::new(w, h, Layout::Luma8, (0..h).flat_map(|y| (0..w).map(move |x| (x, y))).map(|(x, y)| f(x, y)).collect()).expect("raster")
    }

    #[test]
    fn the_block_side_is_checked_by_name() {
        assert_eq!(parse::<Pixelate>(json!({"size": 1})).unwrap_err().field, "size");
    }

    #[test]
    fn pixelate_averages_blocks_including_partial_ones() {
        let src = luma(5, 2, |x, y| (x * 10 + y * 100) as u8);
        let out = run::<Pixelate>(json!({"size": 2}), src).pixels;
        // Blocks: x 0-1 → mean(0,10,100,110) = 55; x 2-3 → 75; x 4 → mean(40,140) = 90.
        assert_eq!(out, [55, 55, 75, 75, 90, 55, 55, 75, 75, 90]);
    }

    #[test]
    fn a_pixelate_band_never_exceeds_the_raster() {
        // size x width x channels is 2^32 here: 0 in a wasm32 usize, a panicking chunk size.
        assert_eq!(band_len(1024, 1 << 20, 1, 4), 4 << 20);
        assert_eq!(band_len(8, 100, 50, 3), 8 * 100 * 3);
        let out = run::<Pixelate>(json!({"size": 1024}), luma(3, 1, |x, _| (x * 30) as u8)).pixels;
        assert_eq!(out, [30, 30, 30]);
    }
}
