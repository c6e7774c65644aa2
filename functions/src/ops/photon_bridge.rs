//! The bridge to photon-rs, and `filter` (photon's named presets) which runs through it: one of
//! photon's per-pixel functions over a raster in strips of rows, so photon's RGBA copies stay a
//! fixed size instead of four times the image, and the colours are exactly photon's.
//!
//! Photon works on whole RGBA `PhotonImage`s and copies them two or three times inside most of its
//! functions; a 48 MP image would need ~1 GB. Every function we call through here is per-pixel (no
//! neighbourhood), so running it on a strip gives exactly the same pixels as running it on the
//! whole image, while memory stays at [`strip_peak_bytes`] whatever the image's height.

use super::color::{checked, colour_channels, colourise, colourise_extra_bytes};
use super::{ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::{Layout, Raster};
use crate::shrink::Shrink;
use crate::spec::{Describe, Lit, Param};
use photon_rs::{filters as pf, PhotonImage};
use serde::{Deserialize, Serialize};

/// Pixels per strip (at least one whole row).
const STRIP_PIXELS: usize = 32 * 1024;

/// The most a strip round trip holds at once on rows `width` pixels long: the RGBA strip (whole
/// rows, at least one, and one padding row: at most `max(STRIP_PIXELS, width) + width` pixels)
/// plus up to five copies photon makes of it (e.g. `mix_with_colour`: a `DynamicImage` copy,
/// `to_rgba8`, `to_vec`, then our `get_raw_pixels`). Only the pixel count bounds the width.
pub fn strip_peak_bytes(width: u32) -> u64 {
    ((STRIP_PIXELS as u64).max(u64::from(width)) + u64::from(width)) * 4 * 6
}

/// Applies `f` (a per-pixel photon function) to every pixel of an `Rgb8` or `Rgba8` raster, in
/// place. Alpha is always kept from the source: some photon functions (e.g. `adjust_contrast`)
/// reset it to 255, which is never what a preset means.
pub fn map_rgba_strips(raster: &mut Raster, f: impl Fn(&mut PhotonImage)) -> Result<(), ImageError> {
    let (w, _h, ch) = checked(raster)?;
    if !matches!(raster.layout, Layout::Rgb8 | Layout::Rgba8) {
        return Err(ImageError::Invalid("photon strips need an RGB raster".into()));
    }
    let rows = (STRIP_PIXELS / w).max(1);
    let width = u32::try_from(w).map_err(|_| ImageError::TooLarge("image too wide".into()))?;
    for strip in raster.pixels.chunks_mut(rows * w * ch) {
        let n = strip.len() / ch;
        let mut rgba = Vec::with_capacity((n + w) * 4);
        for p in strip.chunks_exact(ch) {
            rgba.extend_from_slice(&[p[0], p[1], p[2], p.get(3).copied().unwrap_or(255)]);
        }
        // A padding row (a copy of the strip's last row): `inc_brightness` skips the last pixel
        // of whatever it is given, which must not be a real one.
        let last = rgba.len().saturating_sub(w * 4);
        rgba.extend_from_within(last..);
        let strip_rows = u32::try_from(n / w + 1).map_err(|_| ImageError::TooLarge("strip too tall".into()))?;
        let mut img = PhotonImage::new(rgba, width, strip_rows);
        f(&mut img);
        let out = img.get_raw_pixels();
        drop(img);
        if out.len() < n * 4 {
            return Err(ImageError::Invalid("photon returned fewer pixels than it was given".into()));
        }
        for (dst, src) in strip.chunks_exact_mut(ch).zip(out.chunks_exact(4)) {
            dst[..3].copy_from_slice(&src[..3]);
        }
    }
    Ok(())
}

/// Photon's presets: the names `photon_rs::filters::filter` accepts, then the parameterless named
/// functions of its filters module.
pub const PRESETS: &[&str] = &[
    "oceanic",
    "islands",
    "marine",
    "seagreen",
    "flagblue",
    "liquid",
    "diamante",
    "radio",
    "twenties",
    "rosetint",
    "mauve",
    "bluechrome",
    "vintage",
    "perfume",
    "serenity",
    "golden",
    "pastel_pink",
    "cali",
    "dramatic",
    "firenze",
    "obsidian",
    "lofi",
    "neue",
    "lix",
    "ryo",
    "duotone_violette",
    "duotone_horizon",
    "duotone_lilac",
    "duotone_ochre",
];

/// `filter`: one of photon's named colour presets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterPreset {
    pub name: String,
}

const NAME: Param<&str> = Param::choice("name", PRESETS).default("vintage").examples(&[Lit::Str("oceanic")]);

impl Operation for FilterPreset {
    const DESCRIPTION: &'static str =
        "Photon's named colour presets (the same pixels as photon-rs 0.3.3); gray images become RGB, alpha is kept.";
    const PARAMS: &'static [&'static dyn Describe] = &[&NAME];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(FilterPreset { name: f.get(&NAME)?.to_string() })
    }
    fn output_channels(&self, channels: u8) -> u8 {
        colour_channels(channels)
    }
    fn extra_bytes(&self, input: Shape, output: Shape) -> u64 {
        // Photon's copies of one strip, plus a new buffer when gray grows to RGB.
        strip_peak_bytes(input.width) + colourise_extra_bytes(input.bytes(), output.bytes())
    }
    fn shrink(&self) -> Shrink {
        // Photon's presets are per-pixel (see the module doc).
        Shrink::Point
    }
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let mut rgb = match src.layout {
            Layout::Luma8 | Layout::LumaA8 => colourise(src, |p| p)?,
            _ => src,
        };
        let f: fn(&mut PhotonImage) = match self.name.as_str() {
            "neue" => pf::neue,
            "lix" => pf::lix,
            "ryo" => pf::ryo,
            "duotone_violette" => pf::duotone_violette,
            "duotone_horizon" => pf::duotone_horizon,
            "duotone_lilac" => pf::duotone_lilac,
            "duotone_ochre" => pf::duotone_ochre,
            name if PRESETS.contains(&name) => {
                map_rgba_strips(&mut rgb, |img| pf::filter(img, name))?;
                return Ok(rgb);
            }
            other => return Err(ImageError::Params(format!("unknown filter {other:?}"))),
        };
        map_rgba_strips(&mut rgb, f)?;
        Ok(rgb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_match_a_whole_image_run_and_keep_alpha() {
        // 300×300 spans several strips; the last pixel must be processed too.
        let (w, h) = (300u32, 300u32);
        let pixels: Vec<u8> = (0..w * h * 4).map(|i| (i % 251) as u8).collect();
        let mut raster = Raster::new(w, h, Layout::Rgba8, pixels.clone()).expect("raster");
        map_rgba_strips(&mut raster, photon_rs::filters::firenze).expect("strips");

        let mut whole = PhotonImage::new(pixels.clone(), w, h);
        photon_rs::filters::firenze(&mut whole);
        let whole = whole.get_raw_pixels();
        let n = (w * h) as usize;
        // Photon's own whole-image run skips its last pixel; compare all the others.
        for i in 0..n - 1 {
            assert_eq!(raster.pixels[i * 4..i * 4 + 3], whole[i * 4..i * 4 + 3], "pixel {i}");
            assert_eq!(raster.pixels[i * 4 + 3], pixels[i * 4 + 3], "alpha {i}");
        }
    }

    #[test]
    fn rgb_raster_stays_rgb_and_one_pixel_works() {
        let mut raster = Raster::new(1, 1, Layout::Rgb8, vec![10, 20, 30]).expect("raster");
        map_rgba_strips(&mut raster, photon_rs::filters::lix).expect("strips");
        assert_eq!((raster.layout, raster.pixels), (Layout::Rgb8, vec![245, 235, 30]));
    }
}
