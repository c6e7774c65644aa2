//! `crop`, `flip` and `pad`: cutting, mirroring and extending the canvas. `rotate` lives in
//! `rotate.rs`; gravity and colour helpers shared with `watermark` and `text` in `canvas.rs`.

use super::canvas::{check, colour_in, layout_for_background};
use super::canvas::{Gravity, GRAVITIES};
use super::{orient, ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::{byte_len, Raster};
use crate::registry::MAX_DIMENSION;
use crate::shrink::Shrink;
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// `crop`: a `width × height` window, placed at `left`/`top` or by `gravity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CropParams {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
    pub gravity: Option<Gravity>,
}

impl CropParams {
    /// Top-left corner of the window in a `w × h` image, or why it does not fit there.
    pub(crate) fn origin(&self, w: u32, h: u32) -> Result<(u32, u32), ImageError> {
        if let Some(g) = self.gravity {
            if self.width > w || self.height > h {
                return Err(ImageError::Params(format!("crop: a {}x{} window does not fit in the {w}x{h} image", self.width, self.height)));
            }
            let (x, y) = g.place((w, h), (self.width, self.height), (0, 0));
            // The window fits, so the corner is within 0..=w-width.
            return Ok((u32::try_from(x).unwrap_or(0), u32::try_from(y).unwrap_or(0)));
        }
        let past = |start: u32, len: u32, limit: u32, what: &str, side: &str| {
            let end = u64::from(start) + u64::from(len);
            (end > u64::from(limit))
                .then(|| ImageError::Params(format!("crop: {what} {start} + {side} {len} = {end} goes past the image {side} of {limit}")))
        };
        if let Some(e) = past(self.left, self.width, w, "left", "width").or_else(|| past(self.top, self.height, h, "top", "height")) {
            return Err(e);
        }
        Ok((self.left, self.top))
    }
}

const CROP_WIDTH: Param<u32> = Param::uint("width", 1, u32::MAX).required().examples(&[Lit::Int(800)]);
const CROP_HEIGHT: Param<u32> = Param::uint("height", 1, u32::MAX).required().examples(&[Lit::Int(600)]);
const CROP_LEFT: Param<u32> = Param::uint("left", 0, u32::MAX).default(0).describe("x of the window's left edge");
const CROP_TOP: Param<u32> = Param::uint("top", 0, u32::MAX).default(0).describe("y of the window's top edge");
// No default: giving gravity excludes left/top, and defaults would clash.
const CROP_GRAVITY: Param<Gravity> =
    Param::choice_of("gravity", &GRAVITIES).describe("place the window by gravity instead of left/top (e.g. center)");

impl Operation for CropParams {
    const DESCRIPTION: &'static str = "Cut out a width×height window at left/top, or placed by gravity (not both). A window outside the image fails the task (invalid_chain).";
    const PARAMS: &'static [&'static dyn Describe] = &[&CROP_WIDTH, &CROP_HEIGHT, &CROP_LEFT, &CROP_TOP, &CROP_GRAVITY];

    fn schema() -> Value {
        use crate::spec::given;
        let gravity_with_corner = json!({"allOf": [given("gravity")], "anyOf": [given("left"), given("top")]});
        crate::spec::object(Self::PARAMS, json!({ "not": gravity_with_corner }))
    }

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let (width, height) = (f.get(&CROP_WIDTH)?, f.get(&CROP_HEIGHT)?);
        let (left, top, gravity) = (f.get(&CROP_LEFT)?, f.get(&CROP_TOP)?, f.opt(&CROP_GRAVITY)?);
        // Stated in the schema as `not` (see `schema`).
        if gravity.is_some() && (f.given(&CROP_LEFT) || f.given(&CROP_TOP)) {
            return Err(FieldError::new("gravity", "cannot be combined with left/top; give one or the other"));
        }
        Ok(CropParams { left, top, width, height, gravity })
    }

    fn output_dims(&self, width: u32, height: u32) -> Result<(u32, u32), ImageError> {
        self.origin(width, height).map(|_| (self.width, self.height))
    }

    fn extra_bytes(&self, _input: Shape, _output: Shape) -> u64 {
        // Rows are moved down inside the input buffer.
        0
    }

    fn shrink(&self) -> Shrink {
        Shrink::Cut
    }

    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        check(&src)?;
        let (left, top) = self.origin(src.width, src.height)?;
        let Raster { width, layout, mut pixels, .. } = src;
        let ch = layout.channels();
        let (src_row, dst_row) = (width as usize * ch, self.width as usize * ch);
        // Each destination row starts at or before its source row, so copying in order never
        // overwrites a row still to be read. `origin` checked every range against the size.
        for y in 0..self.height as usize {
            let from = (top as usize + y) * src_row + left as usize * ch;
            pixels.copy_within(from..from + dst_row, y * dst_row);
        }
        pixels.truncate(dst_row * self.height as usize);
        // Give back what was cut away: the steps after are planned on the window alone, and the
        // allocator shrinks the block where it lies.
        pixels.shrink_to_fit();
        Raster::new(self.width, self.height, layout, pixels)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlipDirection {
    Horizontal,
    Vertical,
    Both,
}

/// `flip`: mirror left–right, top–bottom, or both (a half turn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlipParams {
    pub direction: FlipDirection,
}

const DIRECTION: Param<&str> =
    Param::choice("direction", &["horizontal", "vertical", "both"]).required().examples(&[Lit::Str("horizontal")]);

impl Operation for FlipParams {
    const DESCRIPTION: &'static str = "Mirror the image: horizontal (left–right), vertical (top–bottom) or both.";
    const PARAMS: &'static [&'static dyn Describe] = &[&DIRECTION];

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let direction = match f.get(&DIRECTION)? {
            "horizontal" => FlipDirection::Horizontal,
            "vertical" => FlipDirection::Vertical,
            _ => FlipDirection::Both,
        };
        Ok(FlipParams { direction })
    }

    fn extra_bytes(&self, _input: Shape, _output: Shape) -> u64 {
        0 // in place
    }

    fn shrink(&self) -> Shrink {
        Shrink::Move { swaps: false }
    }

    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        check(&src)?;
        Ok(match self.direction {
            FlipDirection::Horizontal => orient::flip_horizontal(src),
            FlipDirection::Vertical => orient::flip_vertical(src),
            FlipDirection::Both => orient::rotate180(src),
        })
    }
}

/// `pad`: borders of `background` around the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PadParams {
    pub top: u32,
    pub right: u32,
    pub bottom: u32,
    pub left: u32,
    pub background: [u8; 4],
}

/// One side's border width.
const fn side(name: &'static str) -> Param<u32> {
    Param::uint(name, 0, MAX_DIMENSION).default(0).examples(&[Lit::Int(10)])
}
const PAD_TOP: Param<u32> = side("top");
const PAD_RIGHT: Param<u32> = side("right");
const PAD_BOTTOM: Param<u32> = side("bottom");
const PAD_LEFT: Param<u32> = side("left");
const PAD_BACKGROUND: Param<[u8; 4]> = Param::colour("background").default([0, 0, 0, 255]);

impl Operation for PadParams {
    const DESCRIPTION: &'static str = "Add borders of `background` colour; a see-through colour adds an alpha channel.";
    const PARAMS: &'static [&'static dyn Describe] = &[&PAD_TOP, &PAD_RIGHT, &PAD_BOTTOM, &PAD_LEFT, &PAD_BACKGROUND];

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let (top, right, bottom, left) = (f.get(&PAD_TOP)?, f.get(&PAD_RIGHT)?, f.get(&PAD_BOTTOM)?, f.get(&PAD_LEFT)?);
        Ok(PadParams { top, right, bottom, left, background: f.get(&PAD_BACKGROUND)? })
    }

    fn output_dims(&self, width: u32, height: u32) -> Result<(u32, u32), ImageError> {
        let grow = |len: u32, a: u32, b: u32| u64::from(len) + u64::from(a) + u64::from(b);
        let (w, h) = (grow(width, self.left, self.right), grow(height, self.top, self.bottom));
        let grown = (w > u64::from(width)) || (h > u64::from(height));
        if grown && (w > u64::from(MAX_DIMENSION) || h > u64::from(MAX_DIMENSION)) {
            return Err(ImageError::Params(format!(
                "pad: {width}x{height} would become {w}x{h}; the largest side allowed is {MAX_DIMENSION}"
            )));
        }
        // Bounded by MAX_DIMENSION or equal to the input's u32 size.
        Ok((u32::try_from(w).unwrap_or(u32::MAX), u32::try_from(h).unwrap_or(u32::MAX)))
    }

    fn output_channels(&self, channels: u8) -> u8 {
        if self.background[3] < 255 && channels % 2 == 1 {
            channels + 1
        } else {
            channels
        }
    }

    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        check(&src)?;
        let (w, h) = self.output_dims(src.width, src.height)?;
        let layout = layout_for_background(src.layout, self.background);
        let fill = colour_in(layout, self.background);
        let len = byte_len(w, h, layout).ok_or_else(|| ImageError::TooLarge(format!("{w}x{h} does not fit in memory")))?;
        let mut pixels: Vec<u8> = fill.iter().copied().cycle().take(len).collect();
        let (sc, dc) = (src.layout.channels(), layout.channels());
        let dst_row = w as usize * dc;
        for (y, row) in src.pixels.chunks_exact(src.width as usize * sc).enumerate() {
            let start = (self.top as usize + y) * dst_row + self.left as usize * dc;
            let Some(dst) = pixels.get_mut(start..start + src.width as usize * dc) else { break };
            if sc == dc {
                dst.copy_from_slice(row);
            } else {
                // Gaining alpha: copy the colour channels, make the image's own pixels opaque.
                for (d, s) in dst.chunks_exact_mut(dc).zip(row.chunks_exact(sc)) {
                    d[..sc].copy_from_slice(s);
                    d[sc] = 255;
                }
            }
        }
        Raster::new(w, h, layout, pixels)
    }
}

#[cfg(test)]
#[path = "geometry_tests.rs"]
mod tests;
