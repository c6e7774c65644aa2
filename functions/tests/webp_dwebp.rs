//! Lossy WebP outputs checked against libwebp's own command-line tools (Debian's `webp` package,
//! installed by scripts/setup.sh): `dwebp` decodes them, alpha exactly (our ALPH chunk beside
//! libwebp's VP8, functions/src/ops/webp_alpha.rs), and `cwebp` at the same quality and method
//! spends the same bytes (ours is its encoder with its defaults).

use functions::ops::encode::{encode, EncodeParams, OutputFormat};
use functions::raster::{Layout, Raster};
use std::process::Command;

/// A smooth `w × h` raster (gradients); with alpha, a left-to-right ramp from transparent to
/// opaque.
fn image(w: u32, h: u32, layout: Layout) -> Raster {
    let ch = layout.channels();
    let px = (0..w * h).flat_map(|i| {
        let (x, y) = (i % w, i / w);
        let v = [(x / 3 + y / 5) as u8, (y * 255 / h) as u8, ((x + y) / 4) as u8];
        let colour: Vec<u8> = if ch <= 2 { vec![v[0]] } else { v.to_vec() };
        let alpha = layout.has_alpha().then_some((x * 255 / (w - 1)) as u8);
        colour.into_iter().chain(alpha).collect::<Vec<_>>()
    });
    Raster::new(w, h, layout, px.collect()).expect("raster")
}

/// A scratch file path unique to this test process.
fn scratch(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("studio-dwebp-{}-{name}", std::process::id()))
}

/// `bytes` decoded by dwebp: RGBA samples.
fn dwebp(bytes: &[u8], name: &str) -> Vec<u8> {
    let (input, output) = (scratch(&format!("{name}.webp")), scratch(&format!("{name}.pam")));
    std::fs::write(&input, bytes).expect("write webp");
    let run = Command::new("dwebp").arg(&input).arg("-pam").arg("-o").arg(&output).output().expect("dwebp runs (scripts/setup.sh)");
    let pam = std::fs::read(&output);
    let _ = (std::fs::remove_file(&input), std::fs::remove_file(&output));
    assert!(run.status.success(), "dwebp refused our output: {}", String::from_utf8_lossy(&run.stderr));
    let pam = pam.expect("decoded pam");
    let start = pam.windows(7).position(|w| w == b"ENDHDR\n").expect("pam header") + 7;
    pam[start..].to_vec()
}

#[test]
fn dwebp_decodes_lossy_outputs_with_their_alpha_exact() {
    for layout in [Layout::Luma8, Layout::LumaA8, Layout::Rgb8, Layout::Rgba8] {
        let src = image(333, 201, layout);
        let bytes = encode(src.clone(), &EncodeParams::new(OutputFormat::Webp, 80)).expect("webp");
        let rgba = dwebp(&bytes, &format!("{layout:?}"));
        assert_eq!(rgba.len(), 333 * 201 * 4, "{layout:?}: the whole canvas decodes");
        let ch = layout.channels();
        let alpha_exact =
            rgba.chunks_exact(4).zip(src.pixels.chunks_exact(ch)).all(|(d, s)| d[3] == if layout.has_alpha() { s[ch - 1] } else { 255 });
        assert!(alpha_exact, "{layout:?}: alpha comes back exactly");
        // The first channel is a smooth gradient (gray's only one): it comes back close.
        let error: f64 = rgba.chunks_exact(4).zip(src.pixels.chunks_exact(ch)).map(|(d, s)| f64::from(d[0].abs_diff(s[0]))).sum();
        let mean = error / (333.0 * 201.0);
        assert!(mean < 3.0, "{layout:?}: mean error of the first channel {mean}");
    }
}

#[test]
fn lossy_outputs_spend_what_cwebp_spends_at_the_same_quality() {
    let src = image(480, 320, Layout::Rgb8);
    let ppm = scratch("cwebp.ppm");
    let webp = scratch("cwebp.webp");
    let mut header = format!("P6\n{} {}\n255\n", src.width, src.height).into_bytes();
    header.extend_from_slice(&src.pixels);
    std::fs::write(&ppm, header).expect("write ppm");
    for quality in [50u8, 80] {
        let ours = encode(src.clone(), &EncodeParams::new(OutputFormat::Webp, quality)).expect("webp").len();
        let q = quality.to_string();
        let run = Command::new("cwebp")
            .args(["-quiet", "-q", &q, "-m", "4"])
            .arg(&ppm)
            .arg("-o")
            .arg(&webp)
            .output()
            .expect("cwebp runs (scripts/setup.sh)");
        assert!(run.status.success(), "cwebp: {}", String::from_utf8_lossy(&run.stderr));
        let theirs = std::fs::metadata(&webp).expect("cwebp output").len() as f64;
        let ratio = ours as f64 / theirs;
        assert!((0.98..=1.02).contains(&ratio), "q{quality}: ours {ours} B, cwebp {theirs} B");
    }
    let _ = (std::fs::remove_file(&ppm), std::fs::remove_file(&webp));
}
