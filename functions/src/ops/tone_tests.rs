//! Golden curves and properties of the tone steps.

use super::*;
use crate::ops::color::tests::{parse, run};
use crate::raster::Layout;
use serde_json::json;

fn gray(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> Raster {
    let pixels = (0..h).flat_map(|y| (0..w).map(move |x| (x, y))).map(|(x, y)| f(x, y)).collect();
    Raster::new(w, h, Layout::Luma8, pixels).expect("raster")
}

/// A faint night sky: background around 20 with noise, a few stars up to 250.
fn night_sky() -> Raster {
    gray(64, 48, |x, y| {
        let noise = ((x * 7 + y * 13) % 9) as u8;
        if (x * 31 + y * 17) % 97 == 0 {
            120 + ((x * 3) % 130) as u8
        } else {
            16 + noise
        }
    })
}

#[test]
fn gamma_one_is_identity_and_above_one_brightens() {
    let ramp = gray(256, 1, |x, _| x as u8);
    assert_eq!(run::<Gamma>(json!({"gamma": 1.0}), ramp.clone()), ramp);
    let out = run::<Gamma>(json!({"gamma": 2.2}), ramp).pixels;
    assert_eq!((out[0], out[128], out[255]), (0, 186, 255));
}

#[test]
fn threshold_gives_black_and_white() {
    let src = Raster::new(3, 1, Layout::Rgba8, vec![255, 255, 255, 7, 10, 10, 10, 8, 128, 128, 128, 9]).expect("raster");
    let out = run::<Threshold>(json!({"threshold": 128}), src.clone());
    assert_eq!((out.layout, out.pixels), (Layout::LumaA8, vec![255, 7, 0, 8, 255, 9]));
    let per = run::<Threshold>(json!({"threshold": 100, "grayscale": false}), src);
    assert_eq!((per.layout, per.pixels), (Layout::Rgba8, vec![255, 255, 255, 7, 0, 0, 0, 8, 255, 255, 255, 9]));
    assert!(run::<Threshold>(json!({"threshold": 0}), gray(4, 1, |x, _| x as u8)).pixels.iter().all(|&v| v == 255));
}

#[test]
fn auto_levels_spans_the_full_range() {
    let src = gray(151, 1, |x, _| 50 + x as u8);
    let out = run::<AutoLevels>(json!({"clip": 0}), src).pixels;
    assert_eq!((out.iter().min(), out.iter().max()), (Some(&0), Some(&255)));
    assert!(out.windows(2).all(|p| p[0] <= p[1]));
    // Per channel: a blue cast is removed; linked: channel order is kept.
    let rgb = Raster::new(2, 1, Layout::Rgb8, vec![10, 20, 100, 110, 120, 200]).expect("raster");
    assert_eq!(run::<AutoLevels>(json!({"clip": 0}), rgb.clone()).pixels, [0, 0, 0, 255, 255, 255]);
    let linked = run::<AutoLevels>(json!({"clip": 0, "per_channel": false}), rgb).pixels;
    assert_eq!((linked[0], linked[5]), (0, 255));
    assert!(linked[3] < linked[4] && linked[4] < linked[5]);
    let flat = gray(3, 3, |_, _| 77);
    assert_eq!(run::<AutoLevels>(json!({}), flat.clone()), flat);
}

#[test]
fn stretch_is_monotonic_keeps_white_and_brightens_faint_detail() {
    for params in [
        json!({"method": "asinh"}),
        json!({"method": "midtone"}),
        json!({"method": "asinh", "strength": 500, "linked": false}),
        json!({"midtone": 0.1}),
    ] {
        let p: Stretch = parse(params.clone()).expect("params");
        let sky = night_sky();
        let table = p.table(&luma_histogram(&sky).expect("hist"));
        assert!(table.windows(2).all(|t| t[0] <= t[1]), "{params}: not monotonic");
        assert_eq!((table[0], table[255]), (0, 255), "{params}");
        // Faint detail above the background is lifted.
        for v in [40usize, 60, 100, 150] {
            assert!(table[v] > v as u8, "{params}: {v} -> {}", table[v]);
        }
        let out = run::<Stretch>(params.clone(), sky.clone());
        // The image goes through that (monotonic) table, so pixel order is kept.
        assert!(sky.pixels.iter().zip(&out.pixels).all(|(&a, &b)| table[usize::from(a)] == b), "{params}");
    }
}

#[test]
fn auto_midtone_puts_the_background_near_a_quarter() {
    let sky = night_sky();
    let out = run::<Stretch>(json!({"method": "midtone"}), sky).pixels;
    let mut sorted = out.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    assert!((40..=90).contains(&median), "median after auto STF {median}");
}

#[test]
fn stretch_and_levels_parameters_are_checked_by_name() {
    assert_eq!(parse::<Stretch>(json!({"midtone": "auto"})).expect("auto").midtone, None);
    assert_eq!(parse::<Stretch>(json!({"midtone": 0.2})).expect("number").midtone, Some(0.2));
    for (params, field) in [
        (json!({"midtone": 1.5}), "midtone"),
        (json!({"midtone": "bright"}), "midtone"),
        (json!({"method": "log"}), "method"),
        (json!({"strength": 0}), "strength"),
        (json!({"shadows_clip": -1}), "shadows_clip"),
        (json!({"linked": "yes"}), "linked"),
    ] {
        assert_eq!(parse::<Stretch>(params).unwrap_err().field, field);
    }
    assert_eq!(parse::<AutoLevels>(json!({"clip": 20})).unwrap_err().field, "clip");
    assert_eq!(parse::<Gamma>(json!({"gamma": 0})).unwrap_err().field, "gamma");
    assert_eq!(parse::<Threshold>(json!({"threshold": 256})).unwrap_err().field, "threshold");
    assert_eq!(parse::<Threshold>(json!({"grayscale": 1})).unwrap_err().field, "grayscale");
}
