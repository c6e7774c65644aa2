//! Effects, the photon presets, and a sweep running every step of the colour, tone, filter,
//! effect and preset modules on every layout.

use super::*;
use crate::ops::color::tests::{parse, run};
use crate::ops::photon_bridge::{FilterPreset, PRESETS};
use crate::raster::Layout;
use crate::registry::Step;
use crate::Chain;
use serde_json::json;

fn raster(w: u32, h: u32, layout: Layout, f: impl Fn(u32, u32, usize) -> u8) -> Raster {
    let ch = layout.channels();
    let pixels = (0..h).flat_map(|y| (0..w).flat_map(move |x| (0..ch).map(move |c| (x, y, c)))).map(|(x, y, c)| f(x, y, c)).collect();
    Raster::new(w, h, layout, pixels).expect("raster")
}

#[test]
fn oil_keeps_flat_regions_and_hard_edges() {
    let flat = raster(9, 9, Layout::Rgb8, |_, _, c| [200, 100, 50][c]);
    assert_eq!(run::<Oil>(json!({"radius": 3, "intensity": 20}), flat.clone()), flat);
    let halves = raster(12, 6, Layout::Rgba8, |x, _, c| {
        if c == 3 {
            99
        } else if x < 6 {
            20
        } else {
            230
        }
    });
    let out = run::<Oil>(json!({"radius": 2}), halves.clone());
    assert_eq!(out, halves, "each pixel's window is mostly its own side");
    let thin = raster(1, 5, Layout::LumaA8, |_, y, c| if c == 1 { 255 } else { (y * 50) as u8 });
    assert_eq!(run::<Oil>(json!({"radius": 10, "intensity": 255}), thin).pixels.len(), 10);
}

#[test]
fn vignette_darkens_corners_not_the_centre() {
    let src = raster(41, 21, Layout::Rgb8, |_, _, _| 200);
    let out = run::<Vignette>(json!({"strength": 0.8, "radius": 0.3}), src.clone()).pixels;
    let at = |x: usize, y: usize| out[(y * 41 + x) * 3];
    assert_eq!(at(20, 10), 200);
    assert!(at(0, 0) < 60 && at(40, 20) < 60, "{}", at(0, 0));
    assert!(at(10, 10) <= 200 && at(10, 10) > at(2, 2));
    assert_eq!(run::<Vignette>(json!({"strength": 0}), src.clone()), src);
}

#[test]
fn presets_give_photons_pixels_keep_alpha_and_colour_gray() {
    let src = raster(7, 5, Layout::Rgba8, |x, y, c| if c == 3 { 128 } else { (x * 30 + y * 7 + c as u32 * 50) as u8 });
    for &name in PRESETS {
        let out = run::<FilterPreset>(json!({"name": name}), src.clone());
        assert_eq!(out.layout, Layout::Rgba8);
        assert!(out.pixels.chunks_exact(4).all(|p| p[3] == 128), "{name} changed alpha");
        // Photon must not see (and panic on) tiny images: the bridge pads every strip.
        for (w, h) in [(1, 1), (1, 3), (2, 1)] {
            assert_eq!(
                run::<FilterPreset>(json!({"name": name}), raster(w, h, Layout::Rgb8, |_, _, _| 255)).pixels.len(),
                (w * h * 3) as usize
            );
        }
    }
    // Exactly photon's `lix`: red and green inverted.
    let rgb = raster(2, 1, Layout::Rgb8, |x, _, c| (x * 100 + c as u32 * 10) as u8);
    assert_eq!(run::<FilterPreset>(json!({"name": "lix"}), rgb).pixels, [255, 245, 20, 155, 145, 120]);
    let gray = raster(2, 2, Layout::Luma8, |x, _, _| x as u8 * 200);
    assert_eq!(run::<FilterPreset>(json!({"name": "oceanic"}), gray).layout, Layout::Rgb8);
    assert_eq!(parse::<FilterPreset>(json!({"name": "nope"})).unwrap_err().field, "name");
    assert_eq!(parse::<Oil>(json!({"intensity": 0})).unwrap_err().field, "intensity");
    assert_eq!(parse::<Vignette>(json!({"radius": 2})).unwrap_err().field, "radius");
}

#[test]
fn edge_detect_and_emboss_use_photons_kernels() {
    let flat = raster(4, 3, Layout::Rgb8, |_, _, _| 100);
    assert!(run::<EdgeDetect>(json!({}), flat.clone()).pixels.iter().all(|&v| v == 0));
    assert_eq!(run::<Emboss>(json!({}), flat.clone()), flat, "emboss keeps flat areas (kernel sum 1)");
    let dot = raster(3, 3, Layout::LumaA8, |x, y, c| {
        if c == 1 {
            50
        } else if (x, y) == (1, 1) {
            30
        } else {
            0
        }
    });
    let out = run::<EdgeDetect>(json!({}), dot).pixels;
    assert_eq!(out, [0, 50, 0, 50, 0, 50, 0, 50, 240, 50, 0, 50, 0, 50, 0, 50, 0, 50]);
}

#[test]
fn median_removes_salt_and_keeps_edges() {
    let salt = raster(7, 7, Layout::Rgb8, |x, y, _| if (x, y) == (3, 3) { 255 } else { 40 });
    assert!(run::<NoiseReduction>(json!({}), salt).pixels.iter().all(|&v| v == 40));
    let edge = raster(8, 6, Layout::Luma8, |x, _, _| if x < 4 { 10 } else { 200 });
    assert_eq!(run::<NoiseReduction>(json!({"radius": 2}), edge.clone()), edge);
}

#[test]
fn kernel_and_median_parameters_are_checked_by_name() {
    assert_eq!(parse::<NoiseReduction>(json!({"radius": 3})).unwrap_err().field, "radius");
    assert_eq!(parse::<Emboss>(json!({"strength": 1})).unwrap_err().field, "strength");
}

/// Every step of color, tone, filters and effects, with defaults and with non-default params.
fn sweep_steps() -> Vec<Step> {
    let steps = json!([
        {"op": "sepia"}, {"op": "invert"}, {"op": "brightness", "factor": 1.5}, {"op": "contrast", "factor": 0.5},
        {"op": "saturation", "factor": 2}, {"op": "hue_rotate", "degrees": -45}, {"op": "gamma"}, {"op": "threshold"},
        {"op": "threshold", "grayscale": false}, {"op": "tint", "colour": "#3366ff"}, {"op": "auto_levels"},
        {"op": "auto_levels", "per_channel": false, "clip": 10}, {"op": "stretch"}, {"op": "stretch", "method": "asinh", "linked": false},
        {"op": "blur"}, {"op": "blur", "sigma": 100}, {"op": "box_blur", "radius": 250}, {"op": "sharpen", "sigma": 10, "threshold": 2},
        {"op": "edge_detect"}, {"op": "emboss"}, {"op": "pixelate", "size": 1024}, {"op": "oil", "radius": 10}, {"op": "oil"},
        {"op": "noise_reduction", "radius": 2}, {"op": "filter", "name": "lofi"}, {"op": "filter"}, {"op": "vignette", "radius": 1}
    ]);
    let mut all = Vec::new();
    for chunk in steps.as_array().expect("array").chunks(16) {
        all.extend(Chain::parse(&json!(chunk)).expect("chain").steps().iter().cloned());
    }
    all
}

#[test]
fn every_step_runs_on_tiny_and_small_rasters_of_every_layout() {
    let aux = std::collections::HashMap::new();
    let ctx = ApplyCtx { aux: &aux, max_pixels: 1 << 30 };
    for step in sweep_steps() {
        for (w, h) in [(1, 1), (3, 2), (2, 3), (64, 48)] {
            for layout in [Layout::Luma8, Layout::LumaA8, Layout::Rgb8, Layout::Rgba8] {
                let src = raster(w, h, layout, |x, y, c| (x * 37 + y * 11 + c as u32 * 71) as u8);
                let out = step.apply(src, &ctx).unwrap_or_else(|e| panic!("{} on {w}x{h} {layout:?}: {e}", step.op()));
                let expected = (step.output_dims(w, h).expect("dims"), step.output_channels(layout.channels() as u8));
                assert_eq!(((out.width, out.height), out.layout.channels() as u8), expected, "{} on {layout:?}", step.op());
                assert_eq!(out.pixels.len(), (w * h) as usize * out.layout.channels());
            }
        }
    }
}

#[test]
fn colour_steps_do_not_widen_colour_rasters_and_in_place_steps_claim_little_memory() {
    for step in sweep_steps() {
        assert!(step.output_channels(3) <= 3, "{}", step.op());
        // 48 MP RGB: in-place steps hold at most a few MiB besides the raster.
        let input = 48_000_000 * 3;
        let extra = step.extra_bytes(Shape::new(8000, 6000, 3), Shape::new(8000, 6000, step.output_channels(3)));
        let allowed = if step.op() == "sharpen" || step.op() == "threshold" { input + (4 << 20) } else { 4 << 20 };
        assert!(extra <= allowed, "{} claims {extra} bytes", step.op());
    }
}
