//! Properties (and a few exact pixels) of the neighbourhood filters.

use super::*;
use crate::ops::color::tests::{parse, run};
use crate::raster::Layout;
use serde_json::json;

fn raster(w: u32, h: u32, layout: Layout, f: impl Fn(u32, u32, usize) -> u8) -> Raster {
    let ch = layout.channels();
    let pixels = (0..h).flat_map(|y| (0..w).flat_map(move |x| (0..ch).map(move |c| (x, y, c)))).map(|(x, y, c)| f(x, y, c)).collect();
    Raster::new(w, h, layout, pixels).expect("raster")
}

/// Deterministic noise in 0..=255.
fn noise(x: u32, y: u32, c: usize) -> u8 {
    ((x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ (c as u32 * 97)).wrapping_mul(2_246_822_519) >> 24) as u8
}

fn mean_var(p: &[u8]) -> (f64, f64) {
    let n = p.len() as f64;
    let mean = p.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    (mean, p.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n)
}

#[test]
fn gaussian_kernels_have_the_requested_variance() {
    let Kernel::Taps(w) = Kernel::gaussian(1.0) else { panic!("small sigma uses taps") };
    assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    for sigma in [2.5, 10.0, 100.0] {
        let Kernel::Boxes(r) = Kernel::gaussian(sigma) else { panic!("large sigma uses boxes") };
        let var: f64 = r.iter().map(|&r| (((2 * r + 1) * (2 * r + 1)) as f64 - 1.0) / 12.0).sum();
        assert!((var.sqrt() / sigma - 1.0).abs() < 0.1, "sigma {sigma}: {}", var.sqrt());
    }
}

#[test]
fn blur_keeps_the_mean_and_reduces_variance() {
    for sigma in [0.5, 2.0, 6.0] {
        let src = raster(64, 48, Layout::Rgb8, noise);
        let out = run::<Blur>(json!({"sigma": sigma}), src.clone());
        let ((m0, v0), (m1, v1)) = (mean_var(&src.pixels), mean_var(&out.pixels));
        assert!((m0 - m1).abs() < 2.0, "sigma {sigma}: mean {m0} -> {m1}");
        assert!(v1 < v0 * 0.5, "sigma {sigma}: variance {v0} -> {v1}");
    }
    let flat = raster(9, 7, Layout::LumaA8, |_, _, c| if c == 0 { 90 } else { 255 });
    assert_eq!(run::<Blur>(json!({"sigma": 5}), flat.clone()), flat);
}

#[test]
fn blur_does_not_bleed_transparent_black_into_opaque_colour() {
    let src = raster(8, 1, Layout::Rgba8, |x, _, c| {
        if x < 4 {
            0
        } else if c == 3 {
            255
        } else {
            200
        }
    });
    let out = run::<Blur>(json!({"sigma": 1.5}), src);
    for p in out.pixels.chunks_exact(4).filter(|p| p[3] > 64) {
        assert!(p[0].abs_diff(200) <= 2, "{p:?}");
    }
}

#[test]
fn box_blur_spreads_one_pixel_over_its_square() {
    let src = raster(5, 5, Layout::Luma8, |x, y, _| if (x, y) == (2, 2) { 255 } else { 0 });
    let out = run::<BoxBlur>(json!({"radius": 1}), src).pixels;
    for y in 0..5 {
        for x in 0..5 {
            let inside = (1..=3).contains(&x) && (1..=3).contains(&y);
            assert_eq!(out[y * 5 + x], if inside { 28 } else { 0 }, "({x},{y})");
        }
    }
}

#[test]
fn sharpen_increases_local_contrast_at_an_edge() {
    let src = raster(16, 4, Layout::Rgb8, |x, _, _| if x < 8 { 80 } else { 160 });
    let out = run::<Sharpen>(json!({"sigma": 1, "amount": 1}), src.clone());
    let at = |r: &Raster, x: usize| r.pixels[x * 3];
    assert!(at(&out, 7) < 80 && at(&out, 8) > 160, "{} {}", at(&out, 7), at(&out, 8));
    assert_eq!((at(&out, 0), at(&out, 15)), (80, 160), "flat areas are left alone");
    let (_, v0) = mean_var(&src.pixels);
    assert!(mean_var(&out.pixels).1 > v0);
    assert_eq!(run::<Sharpen>(json!({"amount": 0}), src.clone()), src);
}

#[test]
fn filter_parameters_are_checked_by_name() {
    assert_eq!(parse::<Blur>(json!({"sigma": 0.1})).unwrap_err().field, "sigma");
    assert_eq!(parse::<BoxBlur>(json!({"radius": 0})).unwrap_err().field, "radius");
    assert_eq!(parse::<Sharpen>(json!({"amount": 11})).unwrap_err().field, "amount");
    assert_eq!(parse::<Sharpen>(json!({"threshold": -1})).unwrap_err().field, "threshold");
}

/// A box pass computed naively: each position the mean of the 2r+1 around it, edges repeated.
fn naive_box(line: &[f32], r: usize) -> Vec<f32> {
    let n = line.len() as isize;
    let r = r as isize;
    (0..n).map(|p| (p - r..=p + r).map(|i| line[i.clamp(0, n - 1) as usize]).sum::<f32>() / (2 * r + 1) as f32).collect()
}

#[test]
fn a_box_pass_matches_the_edge_repeating_mean_whatever_the_radius() {
    for (n, r) in [(1, 250), (7, 250), (7, 3), (7, 6), (7, 7), (300, 1), (300, 149)] {
        let line: Vec<f32> = (0..n as u32).map(|x| f32::from(noise(x, 1, 0))).collect();
        let (mut out, mut pad) = (line.clone(), Vec::new());
        Kernel::Boxes(vec![r]).run(&mut out, 1, &mut pad);
        for (p, (a, b)) in out.iter().zip(naive_box(&line, r)).enumerate() {
            assert!((a - b).abs() < 1e-2, "n {n}, r {r}, position {p}: {a} vs {b}");
        }
    }
}

#[test]
fn a_box_pass_costs_the_line_not_the_radius() {
    // A 1-pixel-wide image's rows (or a 1-pixel-tall image's columns) are lines of one position:
    // a pass that walked the 2r repeated edge positions did 501x the work of a radius-250 box.
    let (mut line, mut pad) = (vec![7.0f32; 4], Vec::new());
    Kernel::Boxes(vec![250]).run(&mut line, 4, &mut pad);
    assert_eq!(line, [7.0; 4]);
    assert!(pad.capacity() <= 4, "the pass held {} floats for a line of 4", pad.capacity());
}
