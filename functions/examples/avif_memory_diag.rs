//! Diagnostic: what one AVIF encode holds (counting allocator), its bytes and time, by tile
//! count, quality and content (uniform RGB noise, the worst case, and a photo-like texture),
//! natively (docs/BENCHMARKS.md, "AVIF"). Not a benchmark of the public routes.
//!
//!     cargo run -p functions --example avif_memory_diag -- WIDTHxHEIGHT TILES,.. QUALITIES,..

#[path = "../tests/support/counting.rs"]
mod counting;

use functions::ops::avif::encode_in_tiles;
use functions::raster::{Layout, Raster};
use std::time::Instant;

/// Uniform RGB noise from a xorshift generator: nothing to predict, the most symbols.
fn noise(w: u32, h: u32) -> Option<Raster> {
    let mut s: u32 = 0x9E37_79B9;
    let px = (0..w * h * 3).map(|_| {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        (s >> 24) as u8
    });
    Raster::new(w, h, Layout::Rgb8, px.collect()).ok()
}

/// Gradients plus a fine texture, as functions/tests/encode_memory.rs's `photo`.
fn photo(w: u32, h: u32) -> Option<Raster> {
    let px = (0..w * h).flat_map(|i| {
        let (x, y) = (i % w, i / w);
        [(x / 3 + y / 5) as u8, (y / 2) as u8 ^ (x as u8), ((x * y) % 211) as u8]
    });
    Raster::new(w, h, Layout::Rgb8, px.collect()).ok()
}

fn list(arg: Option<&String>, default: &[usize]) -> Vec<usize> {
    arg.map(|a| a.split(',').filter_map(|v| v.parse().ok()).collect()).unwrap_or_else(|| default.to_vec())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (w, h) =
        args.get(1).and_then(|s| s.split_once('x')).and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?))).unwrap_or((1600, 1200));
    let tiles = list(args.get(2), &[1, 4, 8, 16]);
    let qualities = list(args.get(3), &[70, 85, 95, 100]);
    let pixels = f64::from(w * h);
    for (content, src) in [("noise", noise(w, h)), ("photo", photo(w, h))] {
        let Some(src) = src else { return };
        for &q in &qualities {
            for &t in &tiles {
                let started = Instant::now();
                let mut out = Vec::new();
                let (done, held) = counting::peak(|| encode_in_tiles(&src, q as u8, 10, t, &mut out));
                let ms = started.elapsed().as_millis();
                if let Err(e) = done {
                    eprintln!("{content} q{q} tiles {t}: {e}");
                    continue;
                }
                let per_pixel = held as f64 / pixels;
                println!("{w}x{h} {content} q{q} tiles {t}: held {held} B ({per_pixel:.1} B/px), {} B out, {ms} ms", out.len());
            }
        }
    }
}
