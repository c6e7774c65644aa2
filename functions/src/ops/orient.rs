//! Quarter turns and mirrors of a raster, EXIF orientation, and the `auto_orient` step.

use super::{ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::shrink::Shrink;
use crate::spec::{Describe, Param};
use serde::{Deserialize, Serialize};

/// Reads the EXIF orientation tag (1–8) from a raw EXIF block; 1 when absent or unreadable.
pub fn exif_orientation(exif: &[u8]) -> u8 {
    exif::Reader::new()
        .read_raw(exif.to_vec())
        .ok()
        .and_then(|e| e.get_field(exif::Tag::Orientation, exif::In::PRIMARY).and_then(|f| f.value.get_uint(0)))
        .filter(|o| (1..=8).contains(o))
        .map_or(1, |o| o as u8)
}

/// Orientations 5–8 store the image on its side.
pub fn swaps_axes(orientation: u8) -> bool {
    (5..=8).contains(&orientation)
}

/// Turns stored pixels upright as EXIF `orientation` describes.
pub fn apply_orientation(r: Raster, orientation: u8) -> Raster {
    match orientation {
        2 => flip_horizontal(r),
        3 => rotate180(r),
        4 => flip_vertical(r),
        5 => flip_horizontal(rotate90(r)),
        6 => rotate90(r),
        7 => flip_horizontal(rotate270(r)),
        8 => rotate270(r),
        _ => r,
    }
}

/// Builds a `w × h` raster whose pixel (x, y) is the source pixel `src_of(x, y)`.
fn remap(r: &Raster, w: u32, h: u32, src_of: impl Fn(usize, usize) -> (usize, usize)) -> Raster {
    let (sw, w, h) = (r.width as usize, w as usize, h as usize);
    let pixels = match r.layout.channels() {
        1 => remap_n::<1>(&r.pixels, sw, w, h, src_of),
        2 => remap_n::<2>(&r.pixels, sw, w, h, src_of),
        3 => remap_n::<3>(&r.pixels, sw, w, h, src_of),
        _ => remap_n::<4>(&r.pixels, sw, w, h, src_of),
    };
    Raster { width: w as u32, height: h as u32, layout: r.layout, pixels }
}

/// [`remap`] for `N`-byte pixels, in 64×64 tiles of the output: a quarter turn reads the source
/// down its columns, and tiles keep those reads within cache. With the pixel size a constant,
/// each copy is a fixed-size move (measured: docs/BENCHMARKS.md, "Why these kernels").
fn remap_n<const N: usize>(src: &[u8], sw: usize, w: usize, h: usize, src_of: impl Fn(usize, usize) -> (usize, usize)) -> Vec<u8> {
    const TILE: usize = 64;
    let mut out = vec![0u8; w * h * N];
    for ty in (0..h).step_by(TILE) {
        for tx in (0..w).step_by(TILE) {
            for y in ty..(ty + TILE).min(h) {
                let row = &mut out[y * w * N..(y + 1) * w * N];
                for x in tx..(tx + TILE).min(w) {
                    let (sx, sy) = src_of(x, y);
                    let at = (sy * sw + sx) * N;
                    row[x * N..x * N + N].copy_from_slice(&src[at..at + N]);
                }
            }
        }
    }
    out
}

/// Quarter turn clockwise.
pub fn rotate90(r: Raster) -> Raster {
    let (w, h) = (r.height, r.width);
    let sh = r.height as usize;
    remap(&r, w, h, |x, y| (y, sh - 1 - x))
}

/// Quarter turn counter-clockwise.
pub fn rotate270(r: Raster) -> Raster {
    let (w, h) = (r.height, r.width);
    let sw = r.width as usize;
    remap(&r, w, h, |x, y| (sw - 1 - y, x))
}

/// Half turn, in place.
pub fn rotate180(mut r: Raster) -> Raster {
    let ch = r.layout.channels();
    let n = r.pixels.len() / ch;
    for i in 0..n / 2 {
        let j = n - 1 - i;
        for c in 0..ch {
            r.pixels.swap(i * ch + c, j * ch + c);
        }
    }
    r
}

/// Mirror left–right, in place.
pub fn flip_horizontal(mut r: Raster) -> Raster {
    let ch = r.layout.channels();
    let row = r.width as usize * ch;
    for line in r.pixels.chunks_exact_mut(row) {
        let w = line.len() / ch;
        for x in 0..w / 2 {
            for c in 0..ch {
                line.swap(x * ch + c, (w - 1 - x) * ch + c);
            }
        }
    }
    r
}

/// Mirror top–bottom, in place.
pub fn flip_vertical(mut r: Raster) -> Raster {
    let row = r.width as usize * r.layout.channels();
    let h = r.height as usize;
    for y in 0..h / 2 {
        let (top, bottom) = r.pixels.split_at_mut((h - 1 - y) * row);
        top[y * row..(y + 1) * row].swap_with_slice(&mut bottom[..row]);
    }
    r
}

/// `auto_orient`: whether the source's EXIF orientation is applied when it is decoded. It is
/// applied by default (outputs carry no metadata, so they must be upright); `enabled: false`
/// keeps the stored orientation. Only meaningful as the first step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoOrient {
    pub enabled: bool,
}

const ENABLED: Param<bool> = Param::flag("enabled").default(true);

impl Operation for AutoOrient {
    const DESCRIPTION: &'static str =
        "Apply the source's EXIF orientation on decode (the default even without this step); enabled=false keeps the stored pixels. First step only.";
    const PARAMS: &'static [&'static dyn Describe] = &[&ENABLED];

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(AutoOrient { enabled: f.get(&ENABLED)? })
    }

    fn extra_bytes(&self, _input: Shape, _output: Shape) -> u64 {
        0
    }

    fn shrink(&self) -> Shrink {
        // Orienting is done by the decoder, on whatever size it decodes at. Disabled, the pixels
        // keep their stored orientation while the chain is planned on the upright size, so
        // their axes may not match it: no shrinking then.
        if self.enabled {
            Shrink::Move { swaps: false }
        } else {
            Shrink::Barrier
        }
    }

    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        // The loader already honoured `enabled` when it decoded the original.
        Ok(src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Layout;

    /// 3×2 gray image with pixels 0..6 in reading order.
    fn sample() -> Raster {
        Raster::new(3, 2, Layout::Luma8, (0..6).collect()).expect("raster")
    }

    #[test]
    fn quarter_turns_move_pixels_where_expected() {
        // 0 1 2      clockwise:  3 0
        // 3 4 5                  4 1
        //                        5 2
        assert_eq!(rotate90(sample()).pixels, [3, 0, 4, 1, 5, 2]);
        assert_eq!(rotate270(sample()).pixels, [2, 5, 1, 4, 0, 3]);
        assert_eq!(rotate180(sample()).pixels, [5, 4, 3, 2, 1, 0]);
        assert_eq!(flip_horizontal(sample()).pixels, [2, 1, 0, 5, 4, 3]);
        assert_eq!(flip_vertical(sample()).pixels, [3, 4, 5, 0, 1, 2]);
    }

    #[test]
    fn every_orientation_is_undone_by_its_inverse_dims() {
        for o in 1..=8 {
            let r = apply_orientation(sample(), o);
            let expected = if swaps_axes(o) { (2, 3) } else { (3, 2) };
            assert_eq!((r.width, r.height), expected, "orientation {o}");
        }
    }

    #[test]
    fn garbage_exif_means_upright() {
        assert_eq!(exif_orientation(b"not exif at all"), 1);
    }
}
