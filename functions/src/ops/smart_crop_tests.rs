//! `smart_crop`: a salient object on a flat or mildly textured background ends up inside the
//! window for both strategies; the window's size and placement rules.

use super::*;
use crate::raster::Layout;
use std::collections::HashMap;

fn cropped(p: SmartCrop, r: Raster) -> (Raster, Region) {
    let (out, region) = p.apply_boxed(r, &ApplyCtx { aux: &HashMap::new(), max_pixels: 1 << 24 }).expect("smart_crop");
    (out, region.expect("smart_crop reports its box"))
}

/// A `w × h` RGB scene: a gentle gradient with faint noise, and at `obj` (x, y, side) a
/// skin-toned disc with a dark textured pattern on it (a face-like object).
fn scene(w: u32, h: u32, obj: (u32, u32, u32)) -> Raster {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    let r = f64::from(obj.2) / 2.0;
    let (cx, cy) = (f64::from(obj.0) + r, f64::from(obj.1) + r);
    for y in 0..h {
        for x in 0..w {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let noise = (seed % 5) as u8;
            let (dx, dy) = (f64::from(x) - cx, f64::from(y) - cy);
            let inside = dx * dx + dy * dy <= r * r;
            let pixel = if inside && (x / 3 + y / 3) % 4 == 0 {
                [60, 30, 20]
            } else if inside {
                [224, 172, 140]
            } else {
                let g = 90 + (y * 40 / h) as u8;
                [g - 10 + noise, g + noise, g + 25 + noise]
            };
            px.extend_from_slice(&pixel);
        }
    }
    Raster::new(w, h, Layout::Rgb8, px).expect("raster")
}

fn contains(outer: Region, inner: (u32, u32, u32)) -> bool {
    outer.x <= inner.0 && outer.y <= inner.1 && outer.x + outer.width >= inner.0 + inner.2 && outer.y + outer.height >= inner.1 + inner.2
}

#[test]
fn the_salient_object_ends_up_inside_the_window_with_either_strategy() {
    for obj in [(520, 60, 50), (30, 300, 60), (300, 200, 40)] {
        for strategy in [Strategy::Attention, Strategy::Entropy] {
            let (out, region) = cropped(SmartCrop { width: 200, height: 160, strategy }, scene(640, 400, obj));
            assert_eq!((out.width, out.height, region.width, region.height), (200, 160, 200, 160));
            assert!(contains(region, obj), "{strategy:?}: {region:?} misses the object at {obj:?}");
        }
    }
}

#[test]
fn the_output_is_the_reported_box_of_the_input() {
    let src = scene(300, 200, (200, 120, 40));
    let (out, region) = cropped(SmartCrop { width: 90, height: 70, strategy: Strategy::Attention }, src.clone());
    let row = |r: &Raster, x: u32, y: u32| {
        let start = ((y * r.width + x) * 3) as usize;
        r.pixels[start..start + 3].to_vec()
    };
    for (x, y) in [(0, 0), (89, 0), (45, 35), (89, 69)] {
        assert_eq!(row(&out, x, y), row(&src, region.x + x, region.y + y), "pixel ({x}, {y})");
    }
}

#[test]
fn a_flat_image_is_cropped_in_the_middle_by_entropy() {
    let flat = Raster::new(100, 60, Layout::Rgb8, vec![128; 100 * 60 * 3]).expect("raster");
    let (_, region) = cropped(SmartCrop { width: 40, height: 20, strategy: Strategy::Entropy }, flat);
    assert_eq!((region.x, region.y), (30, 20), "{region:?}");
}

#[test]
fn a_window_larger_than_the_image_is_clipped_to_it() {
    let p = SmartCrop { width: 500, height: 30, strategy: Strategy::Attention };
    assert_eq!(p.output_dims(120, 80), Ok((120, 30)));
    let (out, region) = cropped(p, scene(120, 80, (10, 10, 20)));
    assert_eq!((out.width, out.height, region.x), (120, 30, 0));
}

#[test]
fn gray_and_alpha_inputs_are_cropped_too() {
    let luma = Raster::new(50, 40, Layout::LumaA8, (0..50 * 40 * 2).map(|i| (i % 251) as u8).collect()).expect("raster");
    for strategy in [Strategy::Attention, Strategy::Entropy] {
        let (out, region) = cropped(SmartCrop { width: 20, height: 20, strategy }, luma.clone());
        assert_eq!((out.layout, out.width, out.height), (Layout::LumaA8, 20, 20));
        assert!(region.fits(50, 40), "{region:?}");
    }
}

#[test]
fn strategy_defaults_to_attention_and_size_is_required() {
    let chain = crate::Chain::parse(&serde_json::json!([{"op": "smart_crop", "width": 10, "height": 20}])).expect("chain");
    assert_eq!(chain.steps()[0], crate::Step::SmartCrop(SmartCrop { width: 10, height: 20, strategy: Strategy::Attention }));
    assert!(crate::Chain::parse(&serde_json::json!([{"op": "smart_crop", "width": 10}])).is_err());
    assert!(crate::Chain::parse(&serde_json::json!([{"op": "smart_crop", "width": 10, "height": 9, "strategy": "faces"}])).is_err());
}
