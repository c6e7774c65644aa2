//! `crop`, `flip` and `pad`: cutting, mirroring and extending the canvas. `rotate` lives in
//! `rotate.rs`; gravity and colour helpers shared with `watermark` and `text` in `canvas.rs`.

use super::canvas::{check, colour_in, layout_for_background};
use super::canvas::{Gravity, GRAVITIES};
use super::{orient, ApplyCtx, Operation};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::{byte_len, Raster};
use crate::registry::MAX_DIMENSION;
use crate::shrink::Shrink;
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

impl Operation for CropParams {
    const DESCRIPTION: &'static str = "Cut out a width×height window at left/top, or placed by gravity (not both). A window outside the image fails the task (invalid_chain).";

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "width": {"type": "integer", "minimum": 1, "examples": [800]},
                "height": {"type": "integer", "minimum": 1, "examples": [600]},
                "left": {"type": "integer", "minimum": 0, "default": 0, "description": "x of the window's left edge"},
                "top": {"type": "integer", "minimum": 0, "default": 0, "description": "y of the window's top edge"},
                // No default: giving gravity excludes left/top, and defaults would clash.
                "gravity": {"enum": GRAVITIES, "description": "place the window by gravity instead of left/top (e.g. center)"}
            },
            "required": ["width", "height"],
            "additionalProperties": false
        })
    }

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let width = f.u32_in("width", 1, u32::MAX)?.ok_or_else(|| FieldError::new("width", "is required"))?;
        let height = f.u32_in("height", 1, u32::MAX)?.ok_or_else(|| FieldError::new("height", "is required"))?;
        let left = f.u32_in("left", 0, u32::MAX)?;
        let top = f.u32_in("top", 0, u32::MAX)?;
        let gravity = Gravity::parse(f, "gravity")?;
        if gravity.is_some() && (left.is_some() || top.is_some()) {
            return Err(FieldError::new("gravity", "cannot be combined with left/top; give one or the other"));
        }
        Ok(CropParams { left: left.unwrap_or(0), top: top.unwrap_or(0), width, height, gravity })
    }

    fn output_dims(&self, width: u32, height: u32) -> Result<(u32, u32), ImageError> {
        self.origin(width, height).map(|_| (self.width, self.height))
    }

    fn extra_bytes(&self, _input: u64, _output: u64) -> u64 {
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

impl Operation for FlipParams {
    const DESCRIPTION: &'static str = "Mirror the image: horizontal (left–right), vertical (top–bottom) or both.";

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {"direction": {"enum": ["horizontal", "vertical", "both"], "examples": ["horizontal"]}},
            "required": ["direction"],
            "additionalProperties": false
        })
    }

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let direction = match f.choice("direction", &["horizontal", "vertical", "both"])? {
            Some("horizontal") => FlipDirection::Horizontal,
            Some("vertical") => FlipDirection::Vertical,
            Some(_) => FlipDirection::Both,
            None => return Err(FieldError::new("direction", "is required (horizontal, vertical or both)")),
        };
        Ok(FlipParams { direction })
    }

    fn extra_bytes(&self, _input: u64, _output: u64) -> u64 {
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

impl Operation for PadParams {
    const DESCRIPTION: &'static str = "Add borders of `background` colour; a see-through colour adds an alpha channel.";

    fn schema() -> Value {
        let side = |example: u32| json!({"type": "integer", "minimum": 0, "maximum": MAX_DIMENSION, "default": 0, "examples": [example]});
        json!({
            "type": "object",
            "properties": {
                "top": side(10), "right": side(10), "bottom": side(10), "left": side(10),
                "background": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$", "default": "#000000"}
            },
            "additionalProperties": false
        })
    }

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let mut side = |name| f.u32_in(name, 0, MAX_DIMENSION).map(Option::unwrap_or_default);
        let (top, right, bottom, left) = (side("top")?, side("right")?, side("bottom")?, side("left")?);
        let background = f.colour("background")?.unwrap_or([0, 0, 0, 255]);
        Ok(PadParams { top, right, bottom, left, background })
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
