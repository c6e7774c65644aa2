//! `tint`: recolour towards a colour at each pixel's own luminance (black stays black, white
//! stays white), through a 256-entry table of the gradient black → tint → white. Per-pixel, so
//! it may run on a JPEG shrunk on load ([`Shrink::Point`](crate::shrink::Shrink::Point)).

use super::color::colourise;
use super::grayscale::luma;
use super::{ApplyCtx, Operation};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};

/// `tint`: recolours every pixel with the tint's hue at the pixel's own luminance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tint {
    pub colour: [u8; 3],
    pub strength: f64,
}

const COLOUR: Param<[u8; 4]> = Param::colour("colour")
    .default([0xff, 0xa0, 0x40, 255])
    .examples(&[Lit::Str("#3366ff")])
    .describe("tint colour (any alpha digits are ignored)");
const STRENGTH: Param<f64> =
    Param::number("strength", 0.0, 1.0).default(0.5).examples(&[Lit::Num(0.6)]).describe("0: unchanged, 1: fully recoloured");

impl Operation for Tint {
    const DESCRIPTION: &'static str =
        "Tint towards a colour keeping luminance (black stays black, white stays white); gray images become RGB.";
    const PARAMS: &'static [&'static dyn Describe] = &[&COLOUR, &STRENGTH];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let [r, g, b, _] = f.get(&COLOUR)?;
        Ok(Tint { colour: [r, g, b], strength: f.get(&STRENGTH)? })
    }
    colourising_point_step!();
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let table = tint_table(self.colour);
        let s = (self.strength * 256.0).round() as i32;
        colourise(src, |[r, g, b]| {
            let target = table.get(usize::from(luma(r, g, b))).copied().unwrap_or([r, g, b]);
            let mix = |v: u8, t: u8| (i32::from(v) + ((i32::from(t) - i32::from(v)) * s + 128) / 256).clamp(0, 255) as u8;
            [mix(r, target[0]), mix(g, target[1]), mix(b, target[2])]
        })
    }
}

/// For each luminance, the colour on the gradient black → tint → white with that luminance.
fn tint_table(t: [u8; 3]) -> Vec<[u8; 3]> {
    let lt = f64::from(luma(t[0], t[1], t[2]));
    (0..=255u32)
        .map(|l| {
            let l = f64::from(l);
            t.map(|c| {
                let c = f64::from(c);
                let v = if l <= lt && lt > 0.0 {
                    c * l / lt
                } else if lt < 255.0 {
                    c + (255.0 - c) * (l - lt) / (255.0 - lt)
                } else {
                    l
                };
                v.round().clamp(0.0, 255.0) as u8
            })
        })
        .collect()
}
