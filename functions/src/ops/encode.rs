//! `encode`: pixels to PNG or JPEG bytes. Outputs carry no metadata (nothing is copied over).

use crate::error::ImageError;
use crate::format::Format;
use crate::params::{FieldError, Fields};
use crate::raster::{Layout, Raster};
use image::codecs::{jpeg::JpegEncoder, png::PngEncoder};
use image::{ColorType, ImageEncoder};
use serde::{Deserialize, Serialize};

pub const DEFAULT_QUALITY: u8 = 85;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    Png,
    Jpeg,
}

impl OutputFormat {
    pub fn format(self) -> Format {
        match self {
            OutputFormat::Png => Format::Png,
            OutputFormat::Jpeg => Format::Jpeg,
        }
    }

    /// What to write when a chain does not end with `encode`: the source's own format when we
    /// can write it, PNG (lossless) otherwise.
    pub fn default_for(source: Format) -> OutputFormat {
        match source {
            Format::Jpeg => OutputFormat::Jpeg,
            _ => OutputFormat::Png,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodeParams {
    pub format: OutputFormat,
    pub quality: u8,
}

impl EncodeParams {
    pub const DESCRIPTION: &'static str = "Encode the pixels (png or jpeg). Metadata is never copied to the output.";

    pub fn schema() -> serde_json::Value {
        serde_json::json!({
            "type": "object",
            "properties": {
                "format": {"enum": ["png", "jpeg"], "examples": ["jpeg"]},
                "quality": {"type": "integer", "minimum": 1, "maximum": 100, "default": DEFAULT_QUALITY,
                            "description": "JPEG quality; ignored by png"}
            },
            "required": ["format"],
            "additionalProperties": false
        })
    }

    pub fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let format = match f.choice("format", &["png", "jpeg"])? {
            Some("png") => OutputFormat::Png,
            Some(_) => OutputFormat::Jpeg,
            None => return Err(FieldError::new("format", "is required (png or jpeg)")),
        };
        let quality = f.u32_in("quality", 1, 100)?.map_or(DEFAULT_QUALITY, |q| q as u8);
        Ok(EncodeParams { format, quality })
    }
}

/// Encodes `src`; JPEG has no alpha, so alpha is composited over white first.
pub fn encode(src: Raster, p: &EncodeParams) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::with_capacity(src.pixels.len() / 4);
    let fail = |e: image::ImageError| ImageError::Invalid(format!("cannot encode: {e}"));
    match p.format {
        OutputFormat::Png => PngEncoder::new(&mut out)
            .write_image(&src.pixels, src.width, src.height, color_type(src.layout))
            .map_err(fail)?,
        OutputFormat::Jpeg => {
            let src = flatten(src);
            JpegEncoder::new_with_quality(&mut out, p.quality)
                .write_image(&src.pixels, src.width, src.height, color_type(src.layout))
                .map_err(fail)?
        }
    }
    Ok(out)
}

fn color_type(layout: Layout) -> ColorType {
    match layout {
        Layout::Luma8 => ColorType::L8,
        Layout::LumaA8 => ColorType::La8,
        Layout::Rgb8 => ColorType::Rgb8,
        Layout::Rgba8 => ColorType::Rgba8,
    }
}

/// Drops alpha by compositing over white (what a viewer shows for transparent areas).
fn flatten(src: Raster) -> Raster {
    let over_white = |c: u8, a: u8| ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a)) + 127) / 255) as u8;
    let Raster { width, height, layout, pixels } = src;
    let (layout, pixels) = match layout {
        Layout::LumaA8 => (Layout::Luma8, pixels.chunks_exact(2).map(|p| over_white(p[0], p[1])).collect()),
        Layout::Rgba8 => (
            Layout::Rgb8,
            pixels.chunks_exact(4).flat_map(|p| [0, 1, 2].map(|i| over_white(p[i], p[3]))).collect(),
        ),
        other => (other, pixels),
    };
    Raster { width, height, layout, pixels }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::probe;

    #[test]
    fn png_output_probes_back_with_the_same_size() {
        let src = Raster::new(5, 3, Layout::Luma8, vec![128; 15]).expect("raster");
        let bytes = encode(src, &EncodeParams { format: OutputFormat::Png, quality: 85 }).expect("png");
        let info = probe(&bytes).expect("probe");
        assert_eq!((info.format, info.width, info.height), (Format::Png, 5, 3));
    }

    #[test]
    fn jpeg_of_transparent_pixels_is_white() {
        let src = Raster::new(8, 8, Layout::Rgba8, vec![0; 256]).expect("raster");
        let bytes = encode(src, &EncodeParams { format: OutputFormat::Jpeg, quality: 90 }).expect("jpeg");
        let back = image::load_from_memory(&bytes).expect("decode").to_rgb8();
        assert!(back.pixels().all(|p| p.0.iter().all(|&c| c > 245)), "flattened over white");
    }
}
