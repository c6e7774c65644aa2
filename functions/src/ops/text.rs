//! `text`: a one-line caption drawn with the bundled Roboto Regular font (Apache 2.0, the same
//! file photon-rs embeds) through rusttype, blended straight into the raster in any colour.
//!
//! photon's own `draw_text` only draws white and converts the whole image to RGBA and back;
//! drawing glyph coverage directly keeps the raster's layout and needs no image-sized copy.

use super::canvas::{check, Gravity, GRAVITIES};
use super::compose::blend;
use super::{ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::registry::MAX_DIMENSION;
use crate::spec::{Describe, Lit, Param, Text};
use rusttype::{point, Font, PositionedGlyph, Scale};
use serde::{Deserialize, Serialize};

/// Roboto Regular; see `functions/assets/fonts/LICENSE-Roboto.txt`.
static FONT: &[u8] = include_bytes!("../../assets/fonts/Roboto-Regular.ttf");

/// Longest caption, in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// Largest font size, in pixels (bounds the per-glyph rasteriser buffer).
pub const MAX_TEXT_SIZE: u32 = 512;

/// `text`: `text` in `color` at `size` px, placed by `gravity` and moved by `x`/`y`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextParams {
    pub text: String,
    pub size: u32,
    pub color: [u8; 4],
    pub gravity: Gravity,
    pub x: i64,
    pub y: i64,
}

/// The laid-out caption: its glyphs and the box (line box ∪ ink) they occupy, in layout space.
struct Laid {
    glyphs: Vec<PositionedGlyph<'static>>,
    min: (i64, i64),
    size: (u32, u32),
}

fn font() -> Result<Font<'static>, ImageError> {
    Font::try_from_bytes(FONT).ok_or_else(|| ImageError::Invalid("the bundled font cannot be read".into()))
}

impl TextParams {
    fn lay_out(&self, font: &Font<'static>) -> Laid {
        let scale = Scale::uniform(self.size as f32);
        let v = font.v_metrics(scale);
        let glyphs: Vec<_> = font.layout(&self.text, scale, point(0.0, v.ascent)).collect();
        // The line box (advance widths × ascent+descent) keeps captions on a steady baseline
        // whatever letters they hold; the ink boxes are added so nothing is drawn outside it.
        let advance = glyphs.last().map_or(0.0, |g| g.position().x + g.unpositioned().h_metrics().advance_width);
        let (mut x0, mut y0) = (0i64, 0i64);
        let (mut x1, mut y1) = (advance.ceil() as i64, (v.ascent - v.descent).ceil() as i64);
        for bb in glyphs.iter().filter_map(PositionedGlyph::pixel_bounding_box) {
            x0 = x0.min(i64::from(bb.min.x));
            y0 = y0.min(i64::from(bb.min.y));
            x1 = x1.max(i64::from(bb.max.x));
            y1 = y1.max(i64::from(bb.max.y));
        }
        let side = |len: i64| u32::try_from(len.max(1)).unwrap_or(u32::MAX);
        Laid { glyphs, min: (x0, y0), size: (side(x1 - x0), side(y1 - y0)) }
    }

    /// Where the caption's box lands on a `width × height` image: left, top, width, height.
    /// Everything drawn lies inside it (and inside the image).
    pub fn text_box(&self, width: u32, height: u32) -> Result<(i64, i64, u32, u32), ImageError> {
        let laid = self.lay_out(&font()?);
        let (left, top) = self.gravity.place((width, height), laid.size, (self.x, self.y));
        Ok((left, top, laid.size.0, laid.size.1))
    }
}

const TEXT: Param<Text> =
    Param::text("text", MAX_TEXT_CHARS).examples(&[Lit::Str("© Stellar Studio")]).describe("one line, no control characters").required();
const SIZE: Param<u32> = Param::uint("size", 4, MAX_TEXT_SIZE).default(32).describe("font size (line height) in pixels");
const COLOR: Param<[u8; 4]> = Param::colour("color").default([255, 255, 255, 255]);
const GRAVITY: Param<Gravity> =
    Param::choice_of("gravity", &GRAVITIES).default(Gravity::NorthWest).describe("where the caption's box sits");
/// A shift along one axis: at most the largest image side either way.
const fn shift(name: &'static str) -> Param<i64> {
    Param::int(name, -(MAX_DIMENSION as i64), MAX_DIMENSION as i64).default(0).examples(&[Lit::Int(10)])
}
const X: Param<i64> = shift("x");
const Y: Param<i64> = shift("y");

impl Operation for TextParams {
    const DESCRIPTION: &'static str = "Draw a one-line caption (Roboto Regular) in `color` at `size` px. `gravity` places its box; x/y move it inwards from the edges it touches (on a centred axis: right/down), negative values outwards. Whatever falls outside the image is clipped.";
    const PARAMS: &'static [&'static dyn Describe] = &[&TEXT, &SIZE, &COLOR, &GRAVITY, &X, &Y];

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let text = f.text(&TEXT)?.to_string();
        let (size, color, gravity) = (f.get(&SIZE)?, f.get(&COLOR)?, f.get(&GRAVITY)?);
        Ok(TextParams { text, size, color, gravity, x: f.get(&X)?, y: f.get(&Y)? })
    }

    fn extra_bytes(&self, _input: Shape, _output: Shape) -> u64 {
        // Drawn in place; the rasteriser holds one glyph's coverage (f32s, a glyph fits in about
        // two line heights square) and the laid-out glyphs.
        let side = 2 * u64::from(self.size);
        4 * side * side + 64 * 1024
    }

    fn apply(&self, mut dst: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        check(&dst)?;
        let font = font()?;
        let laid = self.lay_out(&font);
        let (left, top) = self.gravity.place((dst.width, dst.height), laid.size, (self.x, self.y));
        // Layout space → image space.
        let (dx, dy) = (left - laid.min.0, top - laid.min.1);
        let (w, h) = (i64::from(dst.width), i64::from(dst.height));
        let (layout, ch) = (dst.layout, dst.layout.channels());
        let rgb = [self.color[0], self.color[1], self.color[2]];
        let alpha = f32::from(self.color[3]);
        for g in &laid.glyphs {
            let Some(bb) = g.pixel_bounding_box() else { continue };
            let (gx, gy) = (i64::from(bb.min.x) + dx, i64::from(bb.min.y) + dy);
            // Glyphs wholly off the image are not even rasterised.
            if gx >= w || gy >= h || gx + i64::from(bb.width()) <= 0 || gy + i64::from(bb.height()) <= 0 {
                continue;
            }
            g.draw(|x, y, v| {
                let (px, py) = (gx + i64::from(x), gy + i64::from(y));
                if px < 0 || py < 0 || px >= w || py >= h {
                    return;
                }
                let a = (v.clamp(0.0, 1.0) * alpha).round() as u8;
                let at = (py * w + px) as usize * ch;
                if let Some(d) = dst.pixels.get_mut(at..at + ch) {
                    blend(d, layout, rgb, a);
                }
            });
        }
        Ok(dst)
    }
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
