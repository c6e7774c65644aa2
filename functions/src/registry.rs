//! The one registry of step names: the API validates against it, queue messages and events carry
//! its names, `GET /steps` and the docs list it, the tests use its constants.
//!
//! Adding a step means one line in the `steps!` invocation below and an [`Operation`]
//! implementation; the enum, the name constants, the parser dispatch and the catalogue all come
//! from that line, so they cannot drift apart.

use crate::error::ImageError;
use crate::ops::encode::EncodeParams;
use crate::ops::{
    color::{Brightness, Contrast, HueRotate, Invert, Saturation, Sepia},
    effects::{EdgeDetect, Emboss, NoiseReduction, Oil, Vignette},
    filters::{Blur, BoxBlur, Sharpen},
    photon_bridge::FilterPreset,
    pixelate::Pixelate,
    tint::Tint,
    tone::{AutoLevels, Gamma, Stretch, Threshold},
    trim::Trim,
};
use crate::ops::{
    compose::WatermarkParams,
    geometry::{CropParams, FlipParams, PadParams},
    rotate::RotateParams,
    smart_crop::SmartCrop,
    text::TextParams,
};
use crate::ops::{grayscale::Grayscale, orient::AutoOrient, region::Region, resize::ResizeParams, ApplyCtx, Operation, Shape};
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::shrink::Shrink;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Largest width or height a step may produce (the same order as common image libraries).
pub const MAX_DIMENSION: u32 = 16_384;

/// One catalogue entry: the op name, what it does, and the JSON Schema of its parameters.
pub struct StepSpec {
    pub op: &'static str,
    pub description: &'static str,
    pub params: fn() -> Value,
}

macro_rules! steps {
    ($( $variant:ident($konst:ident = $name:literal) => $ty:ty ),* $(,)?) => {
        $( pub const $konst: &str = $name; )*
        /// `encode`: the step that turns pixels into an image file.
        pub const ENCODE: &str = "encode";

        /// One validated step. Its serde form (`{"op": "resize", …}`) is the normalised chain the
        /// task's Durable Object stores; user input goes through [`crate::Chain::parse`].
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "op")]
        pub enum Step {
            $( #[serde(rename = $name)] $variant($ty), )*
            #[serde(rename = "encode")]
            Encode(EncodeParams),
        }

        /// Every step, in catalogue order.
        pub static STEPS: &[StepSpec] = &[
            $( StepSpec { op: $name, description: <$ty as Operation>::DESCRIPTION, params: <$ty as Operation>::schema }, )*
            StepSpec { op: ENCODE, description: EncodeParams::DESCRIPTION, params: EncodeParams::schema },
        ];

        impl Step {
            /// The registry name of this step.
            pub fn op(&self) -> &'static str {
                match self {
                    $( Step::$variant(_) => $name, )*
                    Step::Encode(_) => ENCODE,
                }
            }

            /// Parses the parameters of the step named `op`; `None` for an unknown name.
            pub(crate) fn parse_named(op: &str, f: &mut Fields) -> Option<Result<Step, FieldError>> {
                $( if op == $name { return Some(<$ty as Operation>::parse(f).map(Step::$variant)); } )*
                if op == ENCODE {
                    return Some(EncodeParams::parse(f).map(Step::Encode));
                }
                None
            }

            /// The pixel operation behind the step; `None` for `encode`.
            fn with_op<'a, R>(&'a self, f: impl FnOnce(&'a dyn Dispatch) -> R) -> Option<R> {
                match self {
                    $( Step::$variant(p) => Some(f(p)), )*
                    Step::Encode(_) => None,
                }
            }
        }
    };
}

steps! {
    Resize(RESIZE = "resize") => ResizeParams,
    Grayscale(GRAYSCALE = "grayscale") => Grayscale,
    AutoOrient(AUTO_ORIENT = "auto_orient") => AutoOrient,
    Sepia(SEPIA = "sepia") => Sepia,
    Invert(INVERT = "invert") => Invert,
    Brightness(BRIGHTNESS = "brightness") => Brightness,
    Contrast(CONTRAST = "contrast") => Contrast,
    Saturation(SATURATION = "saturation") => Saturation,
    HueRotate(HUE_ROTATE = "hue_rotate") => HueRotate,
    Gamma(GAMMA = "gamma") => Gamma,
    Threshold(THRESHOLD = "threshold") => Threshold,
    Tint(TINT = "tint") => Tint,
    AutoLevels(AUTO_LEVELS = "auto_levels") => AutoLevels,
    Stretch(STRETCH = "stretch") => Stretch,
    Blur(BLUR = "blur") => Blur,
    BoxBlur(BOX_BLUR = "box_blur") => BoxBlur,
    Sharpen(SHARPEN = "sharpen") => Sharpen,
    EdgeDetect(EDGE_DETECT = "edge_detect") => EdgeDetect,
    Emboss(EMBOSS = "emboss") => Emboss,
    Pixelate(PIXELATE = "pixelate") => Pixelate,
    Oil(OIL = "oil") => Oil,
    NoiseReduction(NOISE_REDUCTION = "noise_reduction") => NoiseReduction,
    Filter(FILTER = "filter") => FilterPreset,
    Vignette(VIGNETTE = "vignette") => Vignette,
    Crop(CROP = "crop") => CropParams,
    Rotate(ROTATE = "rotate") => RotateParams,
    Flip(FLIP = "flip") => FlipParams,
    Pad(PAD = "pad") => PadParams,
    Watermark(WATERMARK = "watermark") => WatermarkParams,
    Text(TEXT = "text") => TextParams,
    Trim(TRIM = "trim") => Trim,
    SmartCrop(SMART_CROP = "smart_crop") => SmartCrop,
}

/// Object-safe view of [`Operation`] so [`Step`] can dispatch without a match per method.
trait Dispatch {
    fn output_dims(&self, w: u32, h: u32) -> Result<(u32, u32), ImageError>;
    fn output_channels(&self, c: u8) -> u8;
    fn extra_bytes(&self, input: Shape, output: Shape) -> u64;
    fn decode_hint(&self, w: u32, h: u32) -> Option<(u32, u32)>;
    fn shrink(&self) -> Shrink;
    fn aux_images(&self) -> Vec<&str>;
    fn apply(&self, src: Raster, ctx: &ApplyCtx) -> Result<Raster, ImageError>;
    fn apply_boxed(&self, src: Raster, ctx: &ApplyCtx) -> Result<(Raster, Option<Region>), ImageError>;
}

impl<T: Operation> Dispatch for T {
    fn output_dims(&self, w: u32, h: u32) -> Result<(u32, u32), ImageError> {
        Operation::output_dims(self, w, h)
    }
    fn output_channels(&self, c: u8) -> u8 {
        Operation::output_channels(self, c)
    }
    fn extra_bytes(&self, input: Shape, output: Shape) -> u64 {
        Operation::extra_bytes(self, input, output)
    }
    fn decode_hint(&self, w: u32, h: u32) -> Option<(u32, u32)> {
        Operation::decode_hint(self, w, h)
    }
    fn shrink(&self) -> Shrink {
        Operation::shrink(self)
    }
    fn aux_images(&self) -> Vec<&str> {
        Operation::aux_images(self)
    }
    fn apply(&self, src: Raster, ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        Operation::apply(self, src, ctx)
    }
    fn apply_boxed(&self, src: Raster, ctx: &ApplyCtx) -> Result<(Raster, Option<Region>), ImageError> {
        Operation::apply_boxed(self, src, ctx)
    }
}

impl Step {
    /// Output size for a `width × height` input (`encode` keeps it).
    pub fn output_dims(&self, width: u32, height: u32) -> Result<(u32, u32), ImageError> {
        self.with_op(|o| o.output_dims(width, height)).unwrap_or(Ok((width, height)))
    }

    /// Output channels for `channels` in; `encode` to JPEG drops alpha.
    pub fn output_channels(&self, channels: u8) -> u8 {
        match self {
            Step::Encode(p) if p.format == crate::ops::encode::OutputFormat::Jpeg => channels.min(3),
            _ => self.with_op(|o| o.output_channels(channels)).unwrap_or(channels),
        }
    }

    /// Bytes held at peak besides the input raster (see [`Operation::extra_bytes`]).
    pub fn extra_bytes(&self, input: Shape, output: Shape) -> u64 {
        // Encoding holds a flattened copy (JPEG) and the encoded bytes, each at most the raster.
        self.with_op(|o| o.extra_bytes(input, output)).unwrap_or(input.bytes() * 2)
    }

    /// Whether the step chooses a window from the pixels and reports it ([`Step::apply_boxed`]).
    pub fn reports_box(&self) -> bool {
        matches!(self, Step::Trim(_) | Step::SmartCrop(_))
    }

    /// Whether the step can take YCbCr 4:2:0 planes ([`crate::planar`]): a plain-scale resize,
    /// and baseline JPEG encoding below quality 90 (4:2:0 output) without a size search.
    pub fn accepts_planar(&self) -> bool {
        use crate::ops::encode::OutputFormat;
        match self {
            Step::Resize(p) => p.is_plain_scale(),
            Step::Encode(p) => p.format == OutputFormat::Jpeg && p.quality < 90 && !p.progressive && p.max_bytes.is_none(),
            _ => false,
        }
    }

    /// This step's own shrink-on-load hint for a `width × height` input (only `resize` has one);
    /// a whole chain's is [`crate::shrink::decode_hint`].
    pub fn decode_hint(&self, width: u32, height: u32) -> Option<(u32, u32)> {
        self.with_op(|o| o.decode_hint(width, height)).flatten()
    }

    /// The step's shrink-on-load class; `encode` is a barrier (the walk never passes it).
    pub fn shrink(&self) -> Shrink {
        self.with_op(|o| o.shrink()).unwrap_or(Shrink::Barrier)
    }

    pub fn aux_images(&self) -> Vec<&str> {
        self.with_op(|o| o.aux_images()).unwrap_or_default()
    }

    /// Runs a pixel step. `encode` is handled by [`crate::session`], which never calls this for it.
    pub fn apply(&self, src: Raster, ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        self.with_op(|o| o.apply(src, ctx)).unwrap_or_else(|| Err(ImageError::Params("encode does not produce pixels".into())))
    }

    /// [`Step::apply`], with the box of the input a content-aware step kept (`trim`,
    /// `smart_crop`); `None` for every other step.
    pub fn apply_boxed(&self, src: Raster, ctx: &ApplyCtx) -> Result<(Raster, Option<Region>), ImageError> {
        self.with_op(|o| o.apply_boxed(src, ctx)).unwrap_or_else(|| Err(ImageError::Params("encode does not produce pixels".into())))
    }
}

/// Looks a step up by name.
pub fn find(op: &str) -> Option<&'static StepSpec> {
    STEPS.iter().find(|s| s.op == op)
}

/// Every name, for error messages ("expected one of …").
pub fn names() -> Vec<&'static str> {
    STEPS.iter().map(|s| s.op).collect()
}

/// The catalogue as served by `GET /steps`.
pub fn catalogue() -> Value {
    let steps: Vec<Value> = STEPS.iter().map(|s| json!({"op": s.op, "description": s.description, "params": (s.params)()})).collect();
    json!({ "steps": steps, "inputs": crate::format::INPUT_NOTES.iter().map(|(f, n)| json!({"format": f, "notes": n})).collect::<Vec<_>>() })
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
