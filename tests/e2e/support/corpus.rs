//! A hostile corpus of more than a thousand inputs, generated deterministically from valid
//! fixtures of every input format: truncations, bit flips, stomped bytes, lying headers,
//! dimension, decompression and frame bombs, huge metadata, scan floods, empty and polyglot
//! files. Each input is named by its kind, for the summary.

use functions::ops::encode::{encode, EncodeParams, OutputFormat};
use functions::raster::{Layout, Raster};
use image::{DynamicImage, ImageOutputFormat, RgbImage};
use std::io::Cursor;

/// The imaging crate's test PRNG (xorshift), the same file its own hostile corpora use: one
/// generator for every generated corpus, and the same corpus on every run. Test support is not
/// part of a crate's API, so it is included by path rather than imported.
#[path = "../../../functions/tests/support/rng.rs"]
mod rng;
use rng::Rng;

fn raster(w: u32, h: u32) -> Raster {
    let pixels = (0..h).flat_map(|y| (0..w).flat_map(move |x| [(x * 9) as u8, (y * 13) as u8, (x ^ y) as u8])).collect();
    Raster::new(w, h, Layout::Rgb8, pixels).expect("a fixture raster")
}

fn ours(format: OutputFormat) -> Vec<u8> {
    encode(raster(48, 32), &EncodeParams::new(format, 80)).expect("encode a fixture")
}

fn theirs(format: ImageOutputFormat) -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(48, 32, |x, y| image::Rgb([(x * 5) as u8, (y * 7) as u8, 90])));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode a fixture");
    out.into_inner()
}

/// One valid 48×32 image per input format.
pub fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("png", ours(OutputFormat::Png)),
        ("jpeg", ours(OutputFormat::Jpeg)),
        ("webp", ours(OutputFormat::Webp)),
        ("gif", ours(OutputFormat::Gif)),
        ("bmp", theirs(ImageOutputFormat::Bmp)),
        ("tiff", theirs(ImageOutputFormat::Tiff)),
    ]
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&[0; 4]); // CRC left wrong on purpose: a reader must cope.
    out
}

/// A PNG whose IHDR declares `w`×`h`, with `idat` as its only image data.
fn png(w: u32, h: u32, extra: &[Vec<u8>], idat: &[u8]) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    extra.iter().for_each(|c| out.extend_from_slice(c));
    out.extend(chunk(b"IDAT", idat));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// A zlib stream of `n` zero bytes, about a thousandth of that long: a decompression bomb.
fn zeros_deflated(n: usize) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(&vec![0; n], 9)
}

fn jpeg_sof(w: u16, h: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8];
    out.extend_from_slice(&h.to_be_bytes());
    out.extend_from_slice(&w.to_be_bytes());
    out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    out
}

fn gif(screen: (u16, u16), frame: (u16, u16)) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&screen.0.to_le_bytes());
    out.extend_from_slice(&screen.1.to_le_bytes());
    out.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255, 0x2C, 0, 0, 0, 0]);
    out.extend_from_slice(&frame.0.to_le_bytes());
    out.extend_from_slice(&frame.1.to_le_bytes());
    out.extend_from_slice(&[0, 2, 2, 0x4C, 0x01, 0, 0x3B]);
    out
}

fn bmp(w: i32, h: i32) -> Vec<u8> {
    let mut out = b"BM".to_vec();
    out.extend_from_slice(&[0; 12]);
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&w.to_le_bytes());
    out.extend_from_slice(&h.to_le_bytes());
    out.extend_from_slice(&[1, 0, 24, 0]);
    out.extend_from_slice(&[0; 24]);
    out
}

fn webp_vp8x(w: u32, h: u32) -> Vec<u8> {
    let mut data = vec![0u8; 4];
    data.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
    data.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
    let mut body = b"WEBPVP8X".to_vec();
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend(data);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// Every input, by kind.
pub fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng(0x00C0_FFEE_5EED_0042);
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, valid) in fixtures() {
        let n = valid.len();
        for i in 0..48 {
            out.push((format!("truncated {name}"), valid[..(n * i / 48).max(1)].to_vec()));
        }
        for _ in 0..90 {
            let mut bytes = valid.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(n);
                bytes[at] ^= 1 << rng.below(8);
            }
            out.push((format!("bit-flipped {name}"), bytes));
        }
        for _ in 0..30 {
            let mut bytes = valid.clone();
            let at = rng.below(n);
            for b in bytes.iter_mut().skip(at).take(16) {
                *b = rng.next() as u8;
            }
            out.push((format!("stomped {name}"), bytes));
        }
        out.push((format!("magic only {name}"), valid[..valid.len().min(4)].to_vec()));
    }
    for (w, h) in [(65535, 65535), (1, 100_000_000), (100_000_000, 1), (0, 5), (5, 0), (20000, 20000), (10000, 10001), (u32::MAX, 2)] {
        out.push(("lying PNG header".into(), png(w, h, &[], &[0x78, 0x9C, 0x03, 0x00])));
    }
    for (w, h) in [(65535u16, 65535u16), (0, 100), (100, 0), (60000, 20000), (8000, 6001)] {
        out.push(("lying JPEG header".into(), jpeg_sof(w, h)));
    }
    for (w, h) in [(i32::MAX, 1), (1, i32::MIN), (40000, 40000), (0, 10), (-5, 5)] {
        out.push(("lying BMP header".into(), bmp(w, h)));
    }
    for (w, h) in [(16384, 16384), (1 << 24, 1), (1, 1 << 24)] {
        out.push(("lying WebP header".into(), webp_vp8x(w, h)));
    }
    for side in [2000u32, 5000, 6000] {
        let rows = (side * (side * 3 + 1)) as usize;
        out.push(("decompression bomb PNG".into(), png(side, side, &[], &zeros_deflated(rows))));
    }
    for frame in [(8000u16, 8000u16), (65535, 65535), (2, 60000)] {
        out.push(("frame bomb GIF".into(), gif((1, 1), frame)));
    }
    out.push(("GIF screen bomb".into(), gif((65535, 65535), (1, 1))));
    let valid_png = ours(OutputFormat::Png);
    for size in [1 << 20, 4 << 20] {
        let text = chunk(b"iTXt", &vec![b'a'; size]);
        let mut bytes = valid_png[..33].to_vec();
        bytes.extend(text);
        bytes.extend_from_slice(&valid_png[33..]);
        out.push(("huge PNG metadata".into(), bytes));
    }
    let valid_jpeg = ours(OutputFormat::Jpeg);
    for (marker, count) in [(0xE1u8, 40usize), (0xE2, 80), (0xFE, 200)] {
        let mut bytes = vec![0xFF, 0xD8];
        for _ in 0..count {
            bytes.extend_from_slice(&[0xFF, marker, 0xFF, 0xFF]);
            bytes.extend(std::iter::repeat_n(0x5A, 0xFFFD));
        }
        bytes.extend_from_slice(&valid_jpeg[2..]);
        out.push(("huge JPEG metadata".into(), bytes));
    }
    for scans in [300usize, 1000] {
        // The image's own scan header repeated: a scan flood the decoder must bound.
        let sos = valid_jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap_or(2);
        let mut bytes = valid_jpeg[..valid_jpeg.len() - 2].to_vec();
        for _ in 0..scans {
            bytes.extend_from_slice(&valid_jpeg[sos..valid_jpeg.len() - 2]);
        }
        bytes.extend_from_slice(&[0xFF, 0xD9]);
        out.push(("JPEG scan flood".into(), bytes));
    }
    for bytes in
        [vec![], vec![0], b"\x89P".to_vec(), b"\xFF\xD8".to_vec(), b"GIF8".to_vec(), b"RIFF\0\0\0\0WEBP".to_vec(), b"II*\0".to_vec()]
    {
        out.push(("empty or tiny".into(), bytes));
    }
    let polyglots: [&[u8]; 5] = [
        b"\x89PNG\r\n\x1a\n\xFF\xD8\xFF\xE0",
        b"\xFF\xD8\xFF<html><script>alert(1)</script>",
        b"GIF89aPK\x03\x04",
        b"BM<?php ?>",
        b"II*\0%PDF-1.4",
    ];
    for (i, p) in polyglots.iter().enumerate() {
        let mut bytes = p.to_vec();
        bytes.extend(fixtures()[i % 6].1.iter().copied());
        out.push(("polyglot".into(), bytes));
    }
    out
}
