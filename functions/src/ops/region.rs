//! The box a content-aware step kept (`trim`, `smart_crop`): where in its input the output
//! came from. The Worker reports it in the step's `step.succeeded` event and the task's
//! outputs, since the caller cannot know it in advance.

use super::canvas::check;
use crate::error::ImageError;
use crate::raster::Raster;
use serde::{Deserialize, Serialize};

/// A window of an image, in the pixels of the step's input: left `x`, top `y`, and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Region {
    /// The whole of a `width × height` image.
    pub fn whole(width: u32, height: u32) -> Region {
        Region { x: 0, y: 0, width, height }
    }

    /// Whether the window lies inside a `width × height` image and is not empty.
    pub fn fits(&self, width: u32, height: u32) -> bool {
        let inside = |start: u32, len: u32, limit: u32| len > 0 && u64::from(start) + u64::from(len) <= u64::from(limit);
        inside(self.x, self.width, width) && inside(self.y, self.height, height)
    }
}

/// Cuts `region` out of `src` in place (rows move down inside the input buffer, so no second
/// image is held).
pub fn cut(src: Raster, region: Region) -> Result<Raster, ImageError> {
    check(&src)?;
    if !region.fits(src.width, src.height) {
        return Err(ImageError::Params(format!("the box {region:?} is outside the {}x{} image", src.width, src.height)));
    }
    let Raster { width, layout, mut pixels, .. } = src;
    let ch = layout.channels();
    let (src_row, dst_row) = (width as usize * ch, region.width as usize * ch);
    // Each destination row starts at or before its source row: copying in order never
    // overwrites a row still to be read.
    for y in 0..region.height as usize {
        let from = (region.y as usize + y) * src_row + region.x as usize * ch;
        pixels.copy_within(from..from + dst_row, y * dst_row);
    }
    pixels.truncate(dst_row * region.height as usize);
    // Give back what was cut away: the steps after are planned on the window alone, and the
    // allocator shrinks the block where it lies.
    pixels.shrink_to_fit();
    Raster::new(region.width, region.height, layout, pixels)
}
