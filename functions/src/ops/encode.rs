//! `encode`: pixels to PNG, JPEG, WebP, AVIF or GIF bytes. Outputs carry the source's metadata only
//! as `metadata` says (written in by the session: [`crate::metadata`]).
//!
//! JPEG goes through our own baseline encoder ([`crate::jpeg::encode`]; faster than the `image`
//! crate's: docs/BENCHMARKS.md, "Why these kernels") and, for `progressive`, through
//! `jpeg-encoder`; WebP through libwebp (lossy VP8, [`super::webp`]) or image-webp (`lossless`,
//! VP8L); AVIF through ravif ([`super::avif`]); GIF through `image`'s encoder (one frame, ≤ 256 colours). `max_bytes` searches the
//! quality ([`super::fit`]).

use crate::error::ImageError;
use crate::format::Format;
use crate::icc::{self, IccPolicy};
use crate::metadata::{self, MetadataPolicy};
use crate::params::{FieldError, Fields};
use crate::raster::{byte_len, Raster};
use crate::spec::{Describe, Lit, Param};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::ImageEncoder;
use serde::{Deserialize, Serialize};

pub const DEFAULT_QUALITY: u8 = 85;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    Png,
    Jpeg,
    Webp,
    Gif,
    Avif,
}

const NAMES: [&str; 5] = ["png", "jpeg", "webp", "gif", "avif"];

impl OutputFormat {
    pub fn format(self) -> Format {
        match self {
            OutputFormat::Png => Format::Png,
            OutputFormat::Jpeg => Format::Jpeg,
            OutputFormat::Webp => Format::Webp,
            OutputFormat::Gif => Format::Gif,
            OutputFormat::Avif => Format::Avif,
        }
    }

    /// What to write when a chain does not end with `encode`: the source's own format when we
    /// can write it, PNG (lossless) otherwise.
    pub fn default_for(source: Format) -> OutputFormat {
        match source {
            Format::Jpeg => OutputFormat::Jpeg,
            Format::Webp => OutputFormat::Webp,
            Format::Gif => OutputFormat::Gif,
            _ => OutputFormat::Png,
        }
    }
}

/// The `encode` step. The fields added after the first release default when absent, so chains
/// stored before them still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodeParams {
    pub format: OutputFormat,
    pub quality: u8,
    /// WebP only: VP8L (exact pixels) instead of lossy VP8.
    #[serde(default)]
    pub lossless: bool,
    /// JPEG only: progressive scans (SOF2) instead of baseline.
    #[serde(default)]
    pub progressive: bool,
    /// Largest output wanted; the quality is searched below `quality` ([`super::fit`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u32>,
    /// What of the source's metadata the output carries ([`crate::metadata`]).
    #[serde(default, skip_serializing_if = "MetadataPolicy::is_strip")]
    pub metadata: MetadataPolicy,
    /// Whether the output carries the source's colour profile instead of being converted to
    /// sRGB ([`crate::icc`]). Left out of the stored form at its default, as `metadata` is.
    #[serde(default, skip_serializing_if = "IccPolicy::is_convert")]
    pub icc: IccPolicy,
    /// AVIF only: rav1e's speed preset, 1 (slowest, smallest) to 10. Left out of the stored
    /// form at its default, so chains (and the result keys made from them) from before AVIF
    /// read and hash as they did.
    #[serde(default = "default_speed", skip_serializing_if = "is_default_speed")]
    pub speed: u8,
}

fn default_speed() -> u8 {
    super::avif::DEFAULT_SPEED
}

fn is_default_speed(speed: &u8) -> bool {
    *speed == super::avif::DEFAULT_SPEED
}

const FORMAT: Param<&str> = Param::choice("format", &NAMES).required().examples(&[Lit::Str("jpeg")]);
const QUALITY: Param<u8> = Param::byte("quality", 1, 100)
    .default(DEFAULT_QUALITY)
    .describe("JPEG, lossy WebP and AVIF quality (with max_bytes, the highest tried); ignored by png, gif and lossless webp");
const LOSSLESS: Param<bool> =
    Param::flag("lossless").default(false).describe("webp: exact pixels (VP8L) instead of lossy VP8; ignored by other formats");
const PROGRESSIVE: Param<bool> =
    Param::flag("progressive").default(false).describe("jpeg: progressive scans (SOF2) instead of baseline; ignored by other formats");
const SPEED: Param<u8> = Param::byte("speed", 1, 10).default(super::avif::DEFAULT_SPEED).describe(
    "avif: encoder speed, 1 (slowest, about 10% smaller) to 10 (fastest); the default is the fastest because an AVIF encode costs 10 to 50 times a WebP one and a request's CPU time is limited (1600×1200 at speed 10 takes seconds); ignored by other formats",
);
const MAX_BYTES: Param<u32> = Param::uint("max_bytes", 1, u32::MAX).describe(
    "largest output in bytes: jpeg, lossy webp and avif search the quality (at most 6 encodes) for the best that fits; every format fails the task if even its smallest output is larger",
);

impl EncodeParams {
    pub const DESCRIPTION: &'static str = "Encode the pixels: png, jpeg (quality 1–100, baseline or progressive; alpha flattened over white), webp (lossy at quality 1–100, or lossless with lossless: true), avif (quality 1–100 at a speed 1–10, alpha kept) or gif (one frame, palette of 256 colours, 1-bit transparency; quality ignored). With max_bytes, the highest quality whose output fits. With metadata, the source's EXIF, XMP and IPTC are kept (keep: Orientation reset to 1) or reduced to the rights fields: Artist, Copyright, creator, rights and Credit (copyright); by default none is copied; IPTC goes into jpeg only, and its rights fields reach png, webp and avif through the XMP. With icc: keep, the source's colour profile is embedded instead of converting the pixels to sRGB.";
    pub const PARAMS: &'static [&'static dyn Describe] =
        &[&FORMAT, &QUALITY, &LOSSLESS, &PROGRESSIVE, &SPEED, &MAX_BYTES, &metadata::PARAM, &icc::PARAM];

    /// `format` at `quality`, every other option at its default.
    pub const fn new(format: OutputFormat, quality: u8) -> Self {
        EncodeParams {
            format,
            quality,
            lossless: false,
            progressive: false,
            max_bytes: None,
            metadata: MetadataPolicy::Strip,
            icc: IccPolicy::Convert,
            speed: super::avif::DEFAULT_SPEED,
        }
    }

    /// What a chain that does not end with `encode` writes: the source's format (see
    /// [`OutputFormat::default_for`]); a WebP source comes back lossless, as it did before lossy
    /// WebP existed, since nothing says whether the source itself was lossy.
    pub fn default_for(source: Format) -> Self {
        let format = OutputFormat::default_for(source);
        EncodeParams { lossless: format == OutputFormat::Webp, ..Self::new(format, DEFAULT_QUALITY) }
    }

    pub fn schema() -> serde_json::Value {
        crate::spec::object(Self::PARAMS, serde_json::Value::Null)
    }

    pub fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let format = match f.get(&FORMAT)? {
            "png" => OutputFormat::Png,
            "webp" => OutputFormat::Webp,
            "gif" => OutputFormat::Gif,
            "avif" => OutputFormat::Avif,
            _ => OutputFormat::Jpeg,
        };
        let metadata = MetadataPolicy::parse(f.get(&metadata::PARAM)?);
        let icc = IccPolicy::parse(f.get(&icc::PARAM)?);
        Ok(EncodeParams {
            format,
            quality: f.get(&QUALITY)?,
            lossless: f.get(&LOSSLESS)?,
            progressive: f.get(&PROGRESSIVE)?,
            max_bytes: f.opt(&MAX_BYTES)?,
            metadata,
            icc,
            speed: f.get(&SPEED)?,
        })
    }

    /// Whether the output's size depends on `quality` (what `max_bytes` can search).
    pub fn has_quality(&self) -> bool {
        match self.format {
            OutputFormat::Jpeg | OutputFormat::Avif => true,
            OutputFormat::Webp => !self.lossless,
            OutputFormat::Png | OutputFormat::Gif => false,
        }
    }

    /// Peak bytes encoding holds besides the raster, for a raster of `input` bytes with
    /// `channels` channels (the planner's `extra_bytes`, which needs the channel count here):
    /// lossless WebP and GIF work on an RGBA copy (GIF adds a one-byte-a-pixel index), JPEG on a
    /// flattened copy when there is alpha, lossy WebP on its own planes
    /// ([`super::webp::lossy_work_bytes`]), AVIF on rav1e's, by quality and speed
    /// ([`super::avif::work_bytes`]); each also holds the encoded bytes, at most about the
    /// raster, and a `max_bytes` search the best output so far beside the attempt.
    pub fn extra_bytes(&self, input: u64, channels: u8) -> u64 {
        let pixels = input / u64::from(channels.clamp(1, 4));
        // JPEG's own channels (gray or RGB) and the flattened copy when there is alpha.
        let jpeg_channels = if channels <= 2 { 1 } else { 3 };
        let flattened = if channels.is_multiple_of(2) { pixels.saturating_mul(jpeg_channels) } else { 0 };
        let work = match self.format {
            OutputFormat::Png => 0,
            // jpeg-encoder's progressive mode holds full-size YCbCr planes and every one of their
            // coefficients (2 bytes each) until the last scan: 3 bytes a sample, measured
            // (functions/tests/encode_memory.rs: 3.25 B/pixel gray, 9.75 RGB with the output).
            OutputFormat::Jpeg if self.progressive => flattened.saturating_add(pixels.saturating_mul(jpeg_channels * 3)),
            OutputFormat::Jpeg => flattened,
            OutputFormat::Webp if self.lossless => pixels.saturating_mul(4),
            OutputFormat::Webp => super::webp::lossy_work_bytes(pixels, channels),
            OutputFormat::Gif => pixels.saturating_mul(5),
            OutputFormat::Avif => super::avif::work_bytes(pixels, self.quality, self.speed),
        };
        let outputs = if self.max_bytes.is_some() && self.has_quality() { 2 } else { 1 };
        work.saturating_add(input.saturating_mul(outputs))
    }
}

/// Encodes `src`; JPEG has no alpha, so alpha is composited over white first. With `max_bytes`,
/// searches the quality ([`super::fit::encode_within`]).
pub fn encode(src: Raster, p: &EncodeParams) -> Result<Vec<u8>, ImageError> {
    encode_reporting(src, p, None).map(|(bytes, _)| bytes)
}

/// [`encode`], with `exif` when the encoder writes it ([`encode_at`]), also telling what a
/// `max_bytes` search did (`None` without `max_bytes`).
pub fn encode_reporting(src: Raster, p: &EncodeParams, exif: Option<&[u8]>) -> Result<(Vec<u8>, Option<super::fit::Search>), ImageError> {
    let src = prepare(src, p)?;
    match p.max_bytes {
        Some(max) => super::fit::encode_within(&src, p, max, exif).map(|(bytes, search)| (bytes, Some(search))),
        None => encode_at(&src, p, p.quality, exif).map(|bytes| (bytes, None)),
    }
}

/// The raster the encoders take: checked against its size, and for JPEG (no alpha) flattened
/// over white.
pub(crate) fn prepare(src: Raster, p: &EncodeParams) -> Result<Raster, ImageError> {
    // The encoders below assert on (or index by) the buffer size; refuse a mismatch instead.
    if byte_len(src.width, src.height, src.layout) != Some(src.pixels.len()) || src.width == 0 || src.height == 0 {
        return Err(ImageError::Invalid(format!("{}x{} raster has {} bytes", src.width, src.height, src.pixels.len())));
    }
    Ok(if p.format == OutputFormat::Jpeg { flatten(src) } else { src })
}

/// One encode of `src` (already flattened for JPEG) at `quality`. `exif` (a TIFF structure) is
/// for AVIF, whose container the encoder writes ([`crate::metadata::encoder_exif`]); the other
/// formats get their metadata written in afterwards ([`crate::metadata::embed`]).
pub(crate) fn encode_at(src: &Raster, p: &EncodeParams, quality: u8, exif: Option<&[u8]>) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::with_capacity(src.pixels.len() / 4);
    let fail = |e: image::ImageError| ImageError::Invalid(format!("cannot encode: {e}"));
    match p.format {
        // fdeflate ("fast") with adaptive filters: photos come out about as small as with zlib
        // level 6 for a fraction of the time (docs/BENCHMARKS.md, "Why these kernels"); flat
        // graphics compress a little less well, which is the price.
        OutputFormat::Png => PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
            .write_image(&src.pixels, src.width, src.height, color_type(src.layout))
            .map_err(fail)?,
        OutputFormat::Jpeg => encode_jpeg(src, quality, p.progressive, &mut out)?,
        OutputFormat::Webp if p.lossless => super::webp::encode_lossless(src, &mut out)?,
        OutputFormat::Webp => super::webp::encode_lossy(src, quality, &mut out)?,
        OutputFormat::Gif => encode_gif(src, &mut out)?,
        OutputFormat::Avif => super::avif::encode(src, quality, p.speed, exif, &mut out)?,
    }
    Ok(out)
}

#[path = "encode_codecs.rs"]
mod codecs;
use codecs::{color_type, encode_gif, encode_jpeg, flatten};

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
