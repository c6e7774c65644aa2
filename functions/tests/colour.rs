//! Colour management against an independent reference: files stored in Display P3, Adobe RGB,
//! ProPhoto (16-bit) and CMYK with their profiles embedded, decoded by us and converted to sRGB,
//! compared with Little CMS's conversion of the same files (`scripts/icc-fixtures.sh`) in
//! CIEDE2000: mean < 1 and max < 3 for each.

use functions::decode::{decode, DecodeOptions};
use functions::format::probe;
use functions::planar::Pixels;
use functions::raster::Layout;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/icc");

/// sRGB 8-bit → CIE L*a*b* (D65).
fn lab([r, g, b]: [u8; 3]) -> [f64; 3] {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (lin(r), lin(g), lin(b));
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f64| if t > 216.0 / 24389.0 { t.cbrt() } else { (24389.0 / 27.0 * t + 16.0) / 116.0 };
    [116.0 * f(y) - 16.0, 500.0 * (f(x) - f(y)), 200.0 * (f(y) - f(z))]
}

/// CIEDE2000 (Sharma, Wu, Dalal 2005).
fn delta_e2000([l1, a1, b1]: [f64; 3], [l2, a2, b2]: [f64; 3]) -> f64 {
    use std::f64::consts::PI;
    let deg = |r: f64| r * 180.0 / PI;
    let rad = |d: f64| d * PI / 180.0;
    let c_bar = ((a1 * a1 + b1 * b1).sqrt() + (a2 * a2 + b2 * b2).sqrt()) / 2.0;
    let g = 0.5 * (1.0 - (c_bar.powi(7) / (c_bar.powi(7) + 25f64.powi(7))).sqrt());
    let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let (c1p, c2p) = ((a1p * a1p + b1 * b1).sqrt(), (a2p * a2p + b2 * b2).sqrt());
    let hue = |b: f64, a: f64| if a == 0.0 && b == 0.0 { 0.0 } else { deg(b.atan2(a)).rem_euclid(360.0) };
    let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
    let dlp = l2 - l1;
    let dcp = c2p - c1p;
    let dhp = if c1p * c2p == 0.0 {
        0.0
    } else if (h2p - h1p).abs() <= 180.0 {
        h2p - h1p
    } else if h2p - h1p > 180.0 {
        h2p - h1p - 360.0
    } else {
        h2p - h1p + 360.0
    };
    let d_hp = 2.0 * (c1p * c2p).sqrt() * rad(dhp / 2.0).sin();
    let lbp = (l1 + l2) / 2.0;
    let cbp = (c1p + c2p) / 2.0;
    let hbp = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * rad(hbp - 30.0).cos() + 0.24 * rad(2.0 * hbp).cos() + 0.32 * rad(3.0 * hbp + 6.0).cos()
        - 0.20 * rad(4.0 * hbp - 63.0).cos();
    let d_theta = 30.0 * (-((hbp - 275.0) / 25.0).powi(2)).exp();
    let rc = 2.0 * (cbp.powi(7) / (cbp.powi(7) + 25f64.powi(7))).sqrt();
    let sl = 1.0 + 0.015 * (lbp - 50.0).powi(2) / (20.0 + (lbp - 50.0).powi(2)).sqrt();
    let sc = 1.0 + 0.045 * cbp;
    let sh = 1.0 + 0.015 * cbp * t;
    let rt = -rad(2.0 * d_theta).sin() * rc;
    ((dlp / sl).powi(2) + (dcp / sc).powi(2) + (d_hp / sh).powi(2) + rt * (dcp / sc) * (d_hp / sh)).sqrt()
}

/// Our decode of `name` next to the reference conversion: (mean, max) ΔE2000.
fn compare(name: &str) -> (f64, f64) {
    let path = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_stem().is_some_and(|s| s == name) && p.extension().is_some_and(|e| e != "png" || !name.ends_with(".ref")))
        .unwrap_or_else(|| panic!("no fixture {name}"));
    let bytes = std::fs::read(&path).expect("read");
    let info = probe(&bytes).expect("probe");
    let opts = DecodeOptions { hint: None, max_pixels: 1 << 24, max_alloc: 1 << 28, orient: true, keep_profile: false };
    let Ok(Pixels::Raster(ours)) = decode(&bytes, &info, &opts, false) else { panic!("{name}: decoded to a raster") };
    assert_eq!(ours.layout, Layout::Rgb8, "{name}");
    let reference = image::open(format!("{FIXTURES}/{name}.ref.png")).expect("reference").to_rgb8();
    assert_eq!((ours.width, ours.height), reference.dimensions());
    let deltas: Vec<f64> =
        ours.pixels.chunks_exact(3).zip(reference.pixels()).map(|(a, b)| delta_e2000(lab([a[0], a[1], a[2]]), lab(b.0))).collect();
    (deltas.iter().sum::<f64>() / deltas.len() as f64, deltas.iter().copied().fold(0.0, f64::max))
}

#[test]
fn ciede2000_matches_the_published_test_pairs() {
    // Sharma et al.'s data, pairs 1 and 7 and 17.
    assert!((delta_e2000([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485]) - 2.0425).abs() < 1e-4);
    assert!((delta_e2000([50.0, 0.0, 0.0], [50.0, -1.0, 2.0]) - 2.3669).abs() < 1e-4);
    assert!((delta_e2000([50.0, 2.5, 0.0], [73.0, 25.0, -18.0]) - 27.1492).abs() < 1e-4);
}

#[test]
fn profiled_sources_are_converted_to_srgb_like_little_cms_does() {
    for name in ["p3", "p3-jpeg", "adobe", "prophoto16", "cmyk"] {
        let (mean, max) = compare(name);
        eprintln!("{name}: ΔE2000 mean {mean:.3}, max {max:.3}");
        assert!(mean < 1.0 && max < 3.0, "{name}: ΔE2000 mean {mean:.3}, max {max:.3}");
    }
}

#[test]
fn ignoring_the_profile_would_fail_the_same_bar() {
    // The check can fail: read as if sRGB, the P3 file is far from the reference.
    let bytes = std::fs::read(format!("{FIXTURES}/p3.png")).expect("read");
    let plain = image::load_from_memory(&bytes).expect("decode").to_rgb8();
    let reference = image::open(format!("{FIXTURES}/p3.ref.png")).expect("reference").to_rgb8();
    let max = plain.pixels().zip(reference.pixels()).map(|(a, b)| delta_e2000(lab(a.0), lab(b.0))).fold(0.0, f64::max);
    assert!(max > 3.0, "max {max}");
}
