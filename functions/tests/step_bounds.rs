//! The placement and geometry steps at the edges of their parameters (the largest pads, text
//! sizes and shifts, angles a hair off a quarter turn, windows as large as allowed) on the
//! smallest rasters (1x1, one row, one column) of every layout: none may panic, and each gives
//! the size and channels the planner counted for it, or a refusal where the planner refused.
//! The colour and neighbourhood steps have the same sweep in `ops/effects_tests.rs`.

use functions::ops::ApplyCtx;
use functions::raster::{Layout, Raster};
use functions::Chain;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

fn steps() -> Vec<Value> {
    let steps = json!([
        {"op": "rotate", "angle": 0.0000001}, {"op": "rotate", "angle": -359.9999999}, {"op": "rotate", "angle": 45},
        {"op": "rotate", "angle": 89.99999999}, {"op": "rotate", "angle": 360}, {"op": "rotate", "angle": -360},
        {"op": "rotate", "angle": 180.5, "background": "#ffffff"},
        {"op": "pad", "left": 16383}, {"op": "pad", "top": 3, "background": "#00000000"},
        {"op": "crop", "width": 1, "height": 1, "gravity": "south_east"}, {"op": "crop", "width": 1, "height": 1},
        {"op": "text", "text": "Wy", "size": 512, "x": -16384, "y": 16384},
        {"op": "text", "text": "\u{1F600}\u{0301}xx", "size": 4, "gravity": "center"},
        {"op": "text", "text": " ", "size": 512, "gravity": "south_east", "x": 16384, "y": -16384},
        {"op": "trim", "threshold": 0}, {"op": "trim", "threshold": 255},
        {"op": "smart_crop", "width": 16384, "height": 16384}, {"op": "smart_crop", "width": 1, "height": 1, "strategy": "entropy"},
        {"op": "resize", "width": 16384, "height": 1, "fit": "cover", "gravity": "south_east"},
        {"op": "resize", "width": 1, "height": 1, "fit": "contain", "background": "#00000000"},
        {"op": "resize", "width": 3, "height": 16384, "fit": "contain"}, {"op": "resize", "height": 1},
        {"op": "resize", "width": 1, "filter": "nearest"}, {"op": "resize", "width": 7, "height": 5},
        {"op": "pixelate", "size": 1024}, {"op": "vignette", "radius": 0, "strength": 1}, {"op": "vignette", "radius": 1, "strength": 1},
        {"op": "flip", "direction": "both"}, {"op": "flip", "direction": "horizontal"},
        {"op": "blur", "sigma": 0.3}, {"op": "box_blur", "radius": 250}, {"op": "sharpen", "sigma": 0.3, "amount": 10},
        {"op": "stretch", "midtone": 0.001, "shadows_clip": 10}, {"op": "stretch", "method": "asinh", "strength": 1000, "linked": false},
        {"op": "auto_levels", "clip": 10}, {"op": "gamma", "gamma": 0.1}, {"op": "gamma", "gamma": 10}
    ]);
    steps.as_array().cloned().unwrap_or_default()
}

/// What went wrong running `step` on a `w × h` raster of `layout`, if anything.
fn problem(step: &Value, (w, h): (u32, u32), layout: Layout) -> Option<String> {
    let chain = Chain::parse(&json!([step])).expect("a valid step");
    let step_ = &chain.steps()[0];
    let n = (w * h) as usize * layout.channels();
    let src = Raster::new(w, h, layout, (0..n).map(|i| (i * 37 % 256) as u8).collect()).expect("raster");
    let planned = step_.output_dims(w, h);
    let channels = step_.output_channels(layout.channels() as u8);
    let aux = HashMap::new();
    let ctx = ApplyCtx { aux: &aux, max_pixels: 1 << 30 };
    let at = format!("{step} on {w}x{h} {layout:?}");
    match catch_unwind(AssertUnwindSafe(|| step_.apply(src, &ctx))) {
        Err(_) => Some(format!("{at}: panicked")),
        Ok(Err(e)) => planned.is_ok().then(|| format!("{at}: planned, then failed: {e}")),
        Ok(Ok(out)) => {
            let dims = (out.width, out.height);
            // trim and smart_crop: the planned size bounds the box they keep.
            let fits =
                planned.as_ref().is_ok_and(|&(pw, ph)| if step_.reports_box() { dims.0 <= pw && dims.1 <= ph } else { dims == (pw, ph) });
            let len_ok = out.pixels.len() == (out.width * out.height) as usize * out.layout.channels();
            (!fits || !len_ok || out.layout.channels() as u8 != channels)
                .then(|| format!("{at}: planned {planned:?} x {channels} channels, got {dims:?} {:?}", out.layout))
        }
    }
}

#[test]
fn placement_steps_at_their_bounds_run_on_the_smallest_rasters_as_planned() {
    let mut problems = Vec::new();
    for step in steps() {
        for dims in [(1, 1), (1, 7), (7, 1), (2, 2), (300, 3)] {
            for layout in [Layout::Luma8, Layout::LumaA8, Layout::Rgb8, Layout::Rgba8] {
                problems.extend(problem(&step, dims, layout));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
