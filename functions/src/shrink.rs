//! Shrink-on-load through the chain: how small a JPEG may be decoded (1/2, 1/4 or 1/8 scale) for
//! a whole chain, not just for a `resize` that comes first.
//!
//! The walk goes from step 0 to the chain's first `resize` ([`Shrink::Scale`]) and only passes
//! steps that give the same result whether they run before or after a downscale:
//! - [`Shrink::Move`] — `auto_orient` (the decoder orients whatever size it decodes at), `flip`,
//!   `rotate` by a multiple of 90°: they move whole pixels without mixing them, so moving then
//!   scaling equals scaling then moving. A quarter turn swaps which side the resize sees.
//! - [`Shrink::Cut`] — `crop`: a window of the image is the same window of the scaled image once
//!   its rectangle is scaled too ([`adapt`]); the cut is smaller than the image, so the decode must
//!   be larger by the ratio image/window for the window to stay as large as the resize needs.
//! - [`Shrink::Point`] — colour and tone steps that map each pixel on its own (`grayscale`,
//!   `sepia`, `invert`, `brightness`, `contrast`, `saturation`, `hue_rotate`, `tint`, `gamma`,
//!   `threshold`, photon's `filter` presets): they keep the size, and since the decode stays at
//!   least as large as the first downscale needs, they simply run on fewer pixels. (A non-linear
//!   curve of averaged pixels is not exactly the average of the curve; the difference is the same
//!   one a resize placed first would make, which sharp and libvips also accept.)
//!
//! Everything else is a [`Shrink::Barrier`] that stops the walk and keeps the full-size decode:
//! neighbourhood filters whose radius is in pixels (blur, sharpen, median, oil, emboss…),
//! steps drawing in pixels (pad, text, watermark, vignette), free-angle rotation, steps reading
//! image-wide statistics (`auto_levels`, `stretch`), `auto_orient` disabled, and `encode`.
//!
//! While pixels are reduced, each step runs through [`adapt`] with the size it would have had at
//! full decode (its *nominal* size, tracked with `Step::output_dims`): crops get scaled
//! rectangles, and the first resize gets the exact output size it would have produced from the
//! full-size image, so a chain's output size never depends on how it was decoded.

use crate::ops::geometry::CropParams;
use crate::ops::resize::{Fit, ResizeParams};
use crate::ops::Operation;
use crate::registry::Step;

/// How a step relates to shrink-on-load (see the module doc); each `Operation` says which it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shrink {
    /// Needs the pixels it would get from a full-size decode: the walk stops here.
    Barrier,
    /// Moves whole pixels (orientation, flips, quarter turns); `swaps` when width and height
    /// trade places.
    Move { swaps: bool },
    /// Cuts a window out (`crop`); run on reduced pixels with its rectangle scaled.
    Cut,
    /// Maps each pixel on its own, keeping the size.
    Point,
    /// Scales (`resize`): ends the walk; its own `decode_hint` says how much it needs.
    Scale,
}

/// Whether `step` may run on reduced pixels before the chain's first resize (it moves, cuts or
/// maps pixels without looking at their neighbours).
pub fn commutes(step: &Step) -> bool {
    matches!(step.shrink(), Shrink::Move { .. } | Shrink::Cut | Shrink::Point)
}

/// One axis of the image during the walk: its length in the upright original, and its length now.
#[derive(Clone, Copy)]
struct Axis {
    original: u32,
    now: u32,
}

impl Axis {
    /// The original length whose scaled decode leaves this axis at least `need` long: scaling
    /// the original by `s` scales every window of it by `s` too.
    fn original_for(self, need: u32) -> u64 {
        (u64::from(need) * u64::from(self.original)).div_ceil(u64::from(self.now.max(1)))
    }
}

/// The smallest upright size to decode a `width × height` (upright) original at for `steps` (the
/// chain from step 0) to give an equivalent result; `None` when it needs the full size (a
/// barrier comes before any resize, there is no resize, or the first one does not shrink).
pub fn decode_hint(steps: &[Step], width: u32, height: u32) -> Option<(u32, u32)> {
    let (mut x, mut y) = (Axis { original: width, now: width }, Axis { original: height, now: height });
    // Whether an odd number of quarter turns made `x` follow the original's height.
    let mut swapped = false;
    for step in steps {
        match step.shrink() {
            Shrink::Point | Shrink::Move { swaps: false } => {}
            Shrink::Move { swaps: true } => {
                (x, y, swapped) = (y, x, !swapped);
            }
            Shrink::Cut => {
                // A window that does not fit fails the chain anyway; let it fail at full size.
                (x.now, y.now) = step.output_dims(x.now, y.now).ok()?;
            }
            Shrink::Scale => {
                let (need_x, need_y) = step.decode_hint(x.now, y.now)?;
                let (along_x, along_y) = (x.original_for(need_x), y.original_for(need_y));
                let (w, h) = if swapped { (along_y, along_x) } else { (along_x, along_y) };
                if w >= u64::from(width) || h >= u64::from(height) {
                    return None; // no smaller decode keeps both sides large enough
                }
                // Both are below u32 sides here.
                return Some((w as u32, h as u32));
            }
            Shrink::Barrier => return None,
        }
    }
    None
}

/// The step to run on pixels that are `actual` in size where a full-size decode would have them
/// at `nominal`. Equal sizes (or steps after the first resize) return `step` unchanged; inside
/// the reduced prefix a crop's rectangle is scaled (a gravity crop becomes the scaled window at
/// the place gravity puts it at nominal size), and the first resize is given the exact output
/// size `step.output_dims(nominal)`, so the chain's output size is the same either way.
///
/// The caller runs, for each step while the pixels are reduced: `adapt(step, nominal, actual)`,
/// then `nominal = step.output_dims(nominal)`; after the resize, nominal and actual are equal.
pub fn adapt(step: &Step, nominal: (u32, u32), actual: (u32, u32)) -> Step {
    if nominal == actual {
        return step.clone();
    }
    match step {
        Step::Crop(c) => Step::Crop(scaled_crop(c, nominal, actual)),
        Step::Resize(r) => Step::Resize(fixed_size(r, nominal)),
        other => other.clone(),
    }
}

/// `c`'s window at `nominal`, scaled to `actual` and rounded outwards, so the window is never
/// smaller than its exact scaled size (the decode hint relies on that) and stays inside the image.
fn scaled_crop(c: &CropParams, nominal: (u32, u32), actual: (u32, u32)) -> CropParams {
    // A window outside the nominal image fails there; unchanged, it fails on the smaller one too.
    let Ok((left, top)) = c.origin(nominal.0, nominal.1) else { return *c };
    let scale = |start: u32, len: u32, n: u32, a: u32| {
        let (n, a) = (u64::from(n.max(1)), u64::from(a));
        let from = u64::from(start) * a / n;
        let to = ((u64::from(start) + u64::from(len)) * a).div_ceil(n).min(a);
        // `to > from` whenever `len > 0`; both are at most `a`, a u32.
        (from as u32, (to.max(from + 1) - from) as u32)
    };
    let (left, width) = scale(left, c.width, nominal.0, actual.0);
    let (top, height) = scale(top, c.height, nominal.1, actual.1);
    CropParams { left, top, width, height, gravity: None }
}

/// `r` with the output size it has at `nominal` spelled out, so reduced input gives the same size.
fn fixed_size(r: &ResizeParams, nominal: (u32, u32)) -> ResizeParams {
    // With both sides given, every fit but `inside` already outputs exactly the box.
    if r.width.is_some() && r.height.is_some() && r.fit != Fit::Inside {
        return r.clone();
    }
    let Ok((w, h)) = r.output_dims(nominal.0, nominal.1) else { return r.clone() };
    // The size has the input's aspect already: `fill` scales to it exactly. `contain` with a
    // see-through background stays `contain` (it adds alpha, which the plan counted on).
    let fit = if r.fit == Fit::Contain && r.background[3] < 255 { Fit::Contain } else { Fit::Fill };
    ResizeParams { width: Some(w), height: Some(h), fit, ..r.clone() }
}

#[cfg(test)]
#[path = "shrink_tests.rs"]
mod tests;
