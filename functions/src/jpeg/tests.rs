//! The scaled decoder against jpeg-decoder (the reference it replaces on this path): same size,
//! pixels within JPEG-rounding distance, for every sampling layout it takes, with restart
//! markers, and at every scale; and a fallback (`None`), never a panic, for anything else.

use super::decode_scaled;
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

/// A photo-like test card: gradients, a hard diagonal edge, coloured stripes and fine texture.
fn card(width: usize, height: usize) -> Vec<u8> {
    let mut px = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let edge = if x * height > y * width { 60 } else { 0 };
            let texture = ((x * 7 + y * 13) % 17) as u8;
            let stripe = if (x / 9) % 2 == 0 { 40 } else { 0 };
            px.extend([
                ((x * 255 / width) as u8).saturating_add(texture),
                ((y * 150 / height) as u8 + edge).saturating_add(stripe),
                (255 - (x + y) * 255 / (width + height)) as u8,
            ]);
        }
    }
    px
}

pub(super) fn encode(width: usize, height: usize, sampling: SamplingFactor, restart: u16, gray: bool) -> Vec<u8> {
    let rgb = card(width, height);
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, 90);
    encoder.set_sampling_factor(sampling);
    if restart > 0 {
        encoder.set_restart_interval(restart);
    }
    let (pixels, color) = if gray { (rgb.chunks_exact(3).map(|p| p[1]).collect(), ColorType::Luma) } else { (rgb, ColorType::Rgb) };
    encoder.encode(&pixels, width as u16, height as u16, color).expect("encode the test card");
    out
}

/// jpeg-decoder's output at the same scale: (width, height, pixels).
fn reference(bytes: &[u8], eighths: usize) -> (u32, u32, Vec<u8>) {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    d.read_info().expect("reference header");
    let info = d.info().expect("info");
    let scaled = |v: u16| ((usize::from(v) * eighths).div_ceil(8)) as u16;
    d.scale(scaled(info.width), scaled(info.height)).expect("reference scale");
    let px = d.decode().expect("reference decode");
    let info = d.info().expect("info");
    (u32::from(info.width), u32::from(info.height), px)
}

/// Mean and max absolute difference per channel value.
fn distance(a: &[u8], b: &[u8]) -> (f64, u8) {
    let diffs = a.iter().zip(b).map(|(&x, &y)| x.abs_diff(y));
    let (sum, max) = diffs.fold((0u64, 0u8), |(s, m), d| (s + u64::from(d), m.max(d)));
    (sum as f64 / a.len() as f64, max)
}

pub(super) fn assert_matches_reference(bytes: &[u8], eighths: usize, what: &str) {
    let ours = decode_scaled(bytes, eighths, u64::MAX).unwrap_or_else(|| panic!("{what}: fast path declined"));
    let (w, h, px) = reference(bytes, eighths);
    assert_eq!((ours.width, ours.height), (w, h), "{what}: size at {eighths}/8");
    assert_eq!(ours.pixels.len(), px.len(), "{what}: channels");
    let (mean, max) = distance(&ours.pixels, &px);
    // The same DCT downscale; only rounding differs (measured: mean ≤ 1.02, max ≤ 6).
    assert!(mean < 1.2 && max <= 8, "{what} at {eighths}/8: mean {mean:.2}, max {max}");
}

#[test]
fn matches_jpeg_decoder_for_every_sampling_and_scale() {
    let layouts = [
        (SamplingFactor::F_1_1, "4:4:4"),
        (SamplingFactor::F_2_1, "4:2:2"),
        (SamplingFactor::F_1_2, "4:4:0"),
        (SamplingFactor::F_2_2, "4:2:0"),
    ];
    for (sampling, name) in layouts {
        // Odd sizes: partial MCUs at the right and bottom edges.
        let bytes = encode(203, 141, sampling, 0, false);
        for eighths in [1, 2, 4] {
            assert_matches_reference(&bytes, eighths, name);
        }
    }
}

#[test]
fn restart_markers_and_grayscale_decode() {
    let with_restarts = encode(160, 120, SamplingFactor::F_2_2, 3, false);
    assert_matches_reference(&with_restarts, 2, "4:2:0 with RST every 3 MCUs");
    let gray = encode(150, 97, SamplingFactor::F_1_1, 5, true);
    let ours = decode_scaled(&gray, 4, u64::MAX).expect("gray decodes");
    assert_eq!(ours.channels, 1);
    assert_matches_reference(&gray, 4, "gray with restarts");
}

#[test]
fn flat_image_keeps_its_exact_colour() {
    let mut out = Vec::new();
    let px: Vec<u8> = [200u8, 100, 50].repeat(64 * 48);
    Encoder::new(&mut out, 100).encode(&px, 64, 48, ColorType::Rgb).expect("encode");
    let ours = decode_scaled(&out, 2, u64::MAX).expect("decodes");
    assert_eq!((ours.width, ours.height), (16, 12));
    for p in ours.pixels.chunks_exact(3) {
        assert!(p.iter().zip([200u8, 100, 50]).all(|(&a, b)| a.abs_diff(b) <= 2), "got {p:?}");
    }
}

#[test]
fn declines_what_it_does_not_handle() {
    let baseline = encode(64, 64, SamplingFactor::F_2_2, 0, false);
    assert!(decode_scaled(&baseline, 8, u64::MAX).is_none(), "full size is jpeg-decoder's job");
    assert!(decode_scaled(&baseline, 2, 100).is_none(), "over the pixel limit");
    let mut progressive = Vec::new();
    let mut encoder = Encoder::new(&mut progressive, 80);
    encoder.set_progressive(true);
    encoder.encode(&card(64, 64), 64, 64, ColorType::Rgb).expect("encode progressive");
    assert!(decode_scaled(&progressive, 2, u64::MAX).is_none(), "progressive");
    let truncated = &baseline[..baseline.len() * 2 / 3];
    assert!(decode_scaled(truncated, 2, u64::MAX).is_none(), "truncated scan");
}

#[test]
fn corrupt_streams_never_panic() {
    let bytes = encode(96, 80, SamplingFactor::F_2_2, 2, false);
    // A cheap deterministic generator: flip, zero or cut bytes all over the file.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..600 {
        let mut mutated = bytes.clone();
        for _ in 0..1 + next() % 6 {
            let i = (next() % mutated.len() as u64) as usize;
            mutated[i] = match next() % 3 {
                0 => mutated[i] ^ (1 << (next() % 8)),
                1 => 0xFF,
                _ => next() as u8,
            };
        }
        mutated.truncate(mutated.len() - (next() % 40) as usize);
        for eighths in [1, 2, 4] {
            if let Some(d) = decode_scaled(&mutated, eighths, 1 << 20) {
                assert_eq!(d.pixels.len(), d.width as usize * d.height as usize * d.channels);
            }
            if let Some(p) = super::decode_scaled_planar(&mutated, eighths, 1 << 20) {
                assert_eq!(p.y.len(), p.width as usize * p.height as usize);
            }
        }
    }
}

#[test]
fn huffman_tables_are_built_only_for_the_scan_not_once_per_definition() {
    // One DHT segment redefining AC table 3 (one code of length 1), which the scan never uses,
    // 3,000 times: each definition used to build 24 KiB of lookup tables on the spot.
    let jpeg = encode(64, 48, SamplingFactor::F_2_2, 0, false);
    let table = [0x13, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00];
    let payload: Vec<u8> = table.iter().copied().cycle().take(table.len() * 3000).collect();
    let mut bytes = jpeg[..2].to_vec();
    bytes.extend([0xFF, 0xC4]);
    bytes.extend(u16::try_from(payload.len() + 2).expect("one segment").to_be_bytes());
    bytes.extend(payload);
    bytes.extend(&jpeg[2..]);
    let (header, _) = super::read_header(&bytes).expect("a baseline header");
    assert!(header.ac_spec[3].is_some() && header.ac[3].is_none(), "a table the scan does not use is never built");
    assert!(header.components.iter().all(|c| header.dc[c.dc].is_some() && header.ac[c.ac].is_some()), "the scan's tables are");
    assert_matches_reference(&bytes, 2, "redundant table definitions");
}

/// Our encoder's output, read back by jpeg-decoder.
fn round_trip(px: &[u8], channels: usize, width: usize, height: usize, quality: u8) -> (Vec<u8>, Vec<u8>) {
    let bytes = super::encode::encode(px, channels, width, height, quality);
    let mut d = jpeg_decoder::Decoder::new(&bytes[..]);
    let back = d.decode().expect("our JPEG decodes with jpeg-decoder");
    let info = d.info().expect("info");
    assert_eq!((usize::from(info.width), usize::from(info.height)), (width, height));
    (bytes, back)
}

/// Peak signal-to-noise ratio in dB.
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse = a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum::<f64>() / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

#[test]
fn encoder_output_decodes_close_to_the_source_at_every_quality() {
    let (w, h) = (203, 141);
    let px = card(w, h);
    let mut sizes = Vec::new();
    for (quality, min_psnr) in [(30, 29.5), (80, 31.5), (95, 38.5), (100, 49.0)] {
        let (bytes, back) = round_trip(&px, 3, w, h, quality);
        let p = psnr(&px, &back);
        assert!(p >= min_psnr, "quality {quality}: PSNR {p:.1} dB");
        sizes.push(bytes.len());
    }
    assert!(sizes.windows(2).all(|s| s[0] < s[1]), "higher quality, bigger file: {sizes:?}");
}

#[test]
fn encoder_is_as_good_as_jpeg_encoder_for_the_same_quality() {
    let (w, h) = (320, 240);
    let px = card(w, h);
    let (ours, back) = round_trip(&px, 3, w, h, 80);
    let mut theirs = Vec::new();
    Encoder::new(&mut theirs, 80).encode(&px, w as u16, h as u16, ColorType::Rgb).expect("reference encode");
    let reference = jpeg_decoder::Decoder::new(&theirs[..]).decode().expect("reference decodes");
    let (p_ours, p_theirs) = (psnr(&px, &back), psnr(&px, &reference));
    assert!(p_ours > p_theirs - 0.5, "PSNR ours {p_ours:.2} vs jpeg-encoder {p_theirs:.2}");
    assert!(ours.len() < theirs.len() * 11 / 10, "size ours {} vs jpeg-encoder {}", ours.len(), theirs.len());
}

#[test]
fn encoder_handles_gray_tiny_and_extreme_images() {
    let gray: Vec<u8> = (0..37 * 19).map(|i| (i * 7 % 256) as u8).collect();
    let (bytes, back) = round_trip(&gray, 1, 37, 19, 90);
    assert_eq!(back.len(), 37 * 19, "one channel out");
    assert!(psnr(&gray, &back) > 25.0);
    assert_eq!(bytes[6..11], *b"JFIF\0");
    for (w, h) in [(1, 1), (1, 17), (17, 1), (16, 16)] {
        round_trip(&vec![255; w * h * 3], 3, w, h, 75);
    }
    // Alternating black and white pixels at quality 100: the largest coefficients there are.
    let checker: Vec<u8> = (0..64 * 64).flat_map(|i| [if (i + i / 64) % 2 == 0 { 0 } else { 255 }; 3]).collect();
    let (_, back) = round_trip(&checker, 3, 64, 64, 100);
    assert!(psnr(&checker, &back) > 30.0);
}
