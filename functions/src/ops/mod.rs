//! The image operations, one module per family. Every step implements [`Operation`]: its
//! parameters (parsed with field-named errors, described by a JSON Schema), its effect on size and
//! memory (for the planner, before anything is decoded) and the pixel work itself.
//!
//! `encode` is the one step that does not return pixels; see [`encode`].

/// The planner methods of a per-pixel step done in place: no memory besides its input, and it may
/// run on a JPEG shrunk on load ([`Shrink::Point`]). Expanded inside `impl Operation`, so every
/// such step (the colour and tone curves) states this once instead of each writing it out.
macro_rules! in_place_point_step {
    () => {
        fn extra_bytes(&self, _input: $crate::ops::Shape, _output: $crate::ops::Shape) -> u64 {
            0
        }
        fn shrink(&self) -> $crate::shrink::Shrink {
            $crate::shrink::Shrink::Point
        }
    };
}

/// The planner methods of a per-pixel step that gives gray colour (`sepia`, `tint`): gray layouts
/// grow to RGB(A), which needs a new buffer ([`color::colourise`]); colour is done in place.
macro_rules! colourising_point_step {
    () => {
        fn output_channels(&self, channels: u8) -> u8 {
            $crate::ops::color::colour_channels(channels)
        }
        fn extra_bytes(&self, input: $crate::ops::Shape, output: $crate::ops::Shape) -> u64 {
            $crate::ops::color::colourise_extra_bytes(input.bytes(), output.bytes())
        }
        fn shrink(&self) -> $crate::shrink::Shrink {
            $crate::shrink::Shrink::Point
        }
    };
}

pub mod avif;
pub mod canvas;
pub mod color;
pub mod compose;
pub mod effects;
pub mod encode;
pub mod filters;
pub mod fit;
pub mod geometry;
pub mod grayscale;
pub mod orient;
pub mod photon_bridge;
pub mod pixelate;
pub mod progressive;
pub mod region;
pub mod resize;
pub mod rotate;
pub mod saliency;
pub mod smart_crop;
pub mod stretch;
pub mod text;
pub mod tint;
pub mod tone;
pub mod trim;
pub mod webp;
pub mod webp_alpha;

use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::shrink::Shrink;
use crate::spec::Describe;
use serde_json::Value;
use std::collections::HashMap;

/// A raster's size as the planner knows it before decoding: what a step's buffers are sized by.
/// Steps working on rows or columns size their buffers by the sides, not by the byte count:
/// an input is bounded by its pixel count only, so one side may be far longer than
/// [`crate::registry::MAX_DIMENSION`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
}

impl Shape {
    pub fn new(width: u32, height: u32, channels: u8) -> Shape {
        Shape { width, height, channels }
    }

    /// Bytes of the whole raster.
    pub fn bytes(self) -> u64 {
        u64::from(self.width) * u64::from(self.height) * u64::from(self.channels)
    }

    /// Bytes of one row.
    pub fn row_bytes(self) -> u64 {
        u64::from(self.width) * u64::from(self.channels)
    }

    /// Bytes of one column.
    pub fn column_bytes(self) -> u64 {
        u64::from(self.height) * u64::from(self.channels)
    }
}

/// What a step may use besides its input pixels.
pub struct ApplyCtx<'a> {
    /// Other images a step refers to (e.g. a watermark), by image id, as stored bytes.
    pub aux: &'a HashMap<String, Vec<u8>>,
    /// Largest image a decoder may produce.
    pub max_pixels: u64,
}

/// One kind of chain step. Implementations are plain parameter structs.
pub trait Operation: Sized {
    /// One line for `GET /steps`.
    const DESCRIPTION: &'static str;

    /// The step's parameters, each declared once: the schema below and `parse` both read them.
    const PARAMS: &'static [&'static dyn Describe];

    /// JSON Schema (draft 2020-12) of the step object, `op` excluded, with defaults and examples.
    /// Steps with rules across fields add them (see [`crate::spec::object`]).
    fn schema() -> Value {
        crate::spec::object(Self::PARAMS, Value::Null)
    }

    /// Reads and validates the parameters through [`Self::PARAMS`]; errors name the field.
    fn parse(f: &mut Fields) -> Result<Self, FieldError>;

    /// Output size for a `width × height` input.
    fn output_dims(&self, width: u32, height: u32) -> Result<(u32, u32), ImageError> {
        Ok((width, height))
    }

    /// Channels of the output for `channels` in (1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA).
    fn output_channels(&self, channels: u8) -> u8 {
        channels
    }

    /// Bytes the step holds at its peak besides its input raster, given the input and output
    /// raster shapes. The default is a separate output buffer.
    fn extra_bytes(&self, _input: Shape, output: Shape) -> u64 {
        output.bytes()
    }

    /// For shrink-on-load: the smallest decoded size from which this step, as the first of a
    /// chain, gives an equivalent result. `None`: it needs every pixel.
    fn decode_hint(&self, _width: u32, _height: u32) -> Option<(u32, u32)> {
        None
    }

    /// How the step relates to shrink-on-load ([`crate::shrink`]): whether a chain may run it on
    /// pixels decoded at a reduced size. The default, a barrier, is always safe.
    fn shrink(&self) -> Shrink {
        Shrink::Barrier
    }

    /// Ids of other uploaded images the step reads.
    fn aux_images(&self) -> Vec<&str> {
        Vec::new()
    }

    /// The pixel work.
    fn apply(&self, src: Raster, ctx: &ApplyCtx) -> Result<Raster, ImageError>;

    /// The pixel work and, for steps that choose a window from the pixels (`trim`,
    /// `smart_crop`), the box of the input they kept, which the caller cannot know in advance.
    fn apply_boxed(&self, src: Raster, ctx: &ApplyCtx) -> Result<(Raster, Option<region::Region>), ImageError> {
        self.apply(src, ctx).map(|r| (r, None))
    }
}
