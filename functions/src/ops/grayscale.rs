//! `grayscale`: RGB to one luma channel (Rec. 601 weights, as libvips and browsers use), which
//! also cuts the raster to a third of its size for every later step.

use super::{ApplyCtx, Operation};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::{Layout, Raster};
use crate::shrink::Shrink;
use crate::spec::Describe;
use serde::{Deserialize, Serialize};

/// `grayscale` has no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grayscale {}

/// Channels after conversion to luma: alpha is kept (2 → 2, 4 → 2), colour becomes one channel.
pub(crate) fn luma_channels(channels: u8) -> u8 {
    if channels.is_multiple_of(2) {
        2
    } else {
        1
    }
}

impl Operation for Grayscale {
    const DESCRIPTION: &'static str = "Convert to grayscale (Rec. 601 luma); alpha is kept.";
    const PARAMS: &'static [&'static dyn Describe] = &[];

    fn parse(_f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Grayscale {})
    }

    fn output_channels(&self, channels: u8) -> u8 {
        luma_channels(channels)
    }

    fn shrink(&self) -> Shrink {
        // Each output pixel is a function of the same input pixel alone.
        Shrink::Point
    }

    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        Ok(grayscale(src))
    }
}

/// Rec. 601 luma in integer arithmetic (weights ×1024: 306, 601, 117).
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((306 * u32::from(r) + 601 * u32::from(g) + 117 * u32::from(b) + 512) >> 10) as u8
}

/// Converts to `Luma8` (or `LumaA8` when there is alpha); already-gray rasters pass through.
pub fn grayscale(src: Raster) -> Raster {
    let Raster { width, height, layout, pixels } = src;
    let (layout, pixels) = match layout {
        Layout::Luma8 | Layout::LumaA8 => (layout, pixels),
        Layout::Rgb8 => (Layout::Luma8, pixels.chunks_exact(3).map(|p| luma(p[0], p[1], p[2])).collect()),
        Layout::Rgba8 => (Layout::LumaA8, pixels.chunks_exact(4).flat_map(|p| [luma(p[0], p[1], p[2]), p[3]]).collect()),
    };
    Raster { width, height, layout, pixels }
}

/// Adds an opaque alpha channel when the raster has none (needed to pad with a see-through colour).
pub fn with_alpha(src: Raster) -> Raster {
    let Raster { width, height, layout, pixels } = src;
    let (layout, pixels) = match layout {
        Layout::Luma8 => (Layout::LumaA8, pixels.iter().flat_map(|&l| [l, 255]).collect()),
        Layout::Rgb8 => (Layout::Rgba8, pixels.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect()),
        other => (other, pixels),
    };
    Raster { width, height, layout, pixels }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_of_primaries_matches_rec601() {
        assert_eq!(luma(255, 255, 255), 255);
        assert_eq!(luma(0, 0, 0), 0);
        assert_eq!(luma(255, 0, 0), 76);
        assert_eq!(luma(0, 255, 0), 150);
        assert_eq!(luma(0, 0, 255), 29);
    }

    #[test]
    fn rgba_becomes_luma_alpha_and_keeps_alpha() {
        let src = Raster::new(1, 1, Layout::Rgba8, vec![255, 0, 0, 7]).expect("raster");
        let out = grayscale(src);
        assert_eq!((out.layout, out.pixels), (Layout::LumaA8, vec![76, 7]));
    }
}
