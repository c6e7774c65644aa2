//! What the encoders really hold, measured by a counting C heap (every allocation, Rust's and
//! libwebp's), against what the planner counts for them ([`EncodeParams::extra_bytes`]): lossy
//! WebP (libwebp's planes, analysis and token buffer, and the lossless alpha plane's encode),
//! progressive JPEG (jpeg-encoder's coefficient buffer), AVIF (rav1e's frames) and a `max_bytes`
//! search (the best output beside the attempt) must all stay inside their planned figure, or a
//! job the planner admits could exceed the isolate.

#[path = "support/c_heap.rs"]
mod c_heap;

use c_heap::peak;
use functions::ops::encode::{encode, EncodeParams, OutputFormat};
use functions::raster::{Layout, Raster};

/// A photo-like `w × h` raster: gradients plus a fine texture, so the encoders do real work.
fn photo(w: u32, h: u32, layout: Layout) -> Raster {
    let ch = layout.channels();
    let px = (0..w * h).flat_map(|i| {
        let (x, y) = (i % w, i / w);
        let v = [(x / 3 + y / 5) as u8, (y / 2) as u8 ^ (x as u8), ((x * y) % 211) as u8, 200];
        v.into_iter().take(ch).collect::<Vec<_>>()
    });
    Raster::new(w, h, layout, px.collect()).expect("raster")
}

/// Uniform noise (xorshift) in every channel: nothing to predict, so the most symbols an
/// encoder can hold.
fn noise(w: u32, h: u32, layout: Layout) -> Raster {
    let mut s: u32 = 0x9E37_79B9;
    let px = (0..w * h * layout.channels() as u32).map(|_| {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        (s >> 24) as u8
    });
    Raster::new(w, h, layout, px.collect()).expect("raster")
}

/// Bytes held by one encode beyond the raster it was given, and what the planner counts.
fn measured(w: u32, h: u32, layout: Layout, p: &EncodeParams) -> (u64, u64) {
    held_and_planned(photo(w, h, layout), p)
}

fn held_and_planned(raster: Raster, p: &EncodeParams) -> (u64, u64) {
    let layout = raster.layout;
    let input = raster.pixels.len() as u64;
    let (out, held) = peak(|| encode(raster, p).expect("encodes"));
    drop(out);
    (held, p.extra_bytes(input, layout.channels() as u8))
}

#[test]
fn lossy_webp_holds_no_more_than_planned() {
    for (w, h) in [(64, 64), (333, 201), (1600, 1200)] {
        for layout in [Layout::Luma8, Layout::LumaA8, Layout::Rgb8, Layout::Rgba8] {
            let (held, planned) = measured(w, h, layout, &EncodeParams::new(OutputFormat::Webp, 80));
            let per_pixel = held as f64 / f64::from(w * h);
            eprintln!("lossy webp {w}x{h} {layout:?}: held {held} B ({per_pixel:.2} B/pixel), planned {planned}");
            assert!(held <= planned, "{w}x{h} {layout:?}: held {held}, planned {planned}");
        }
    }
}

#[test]
fn progressive_jpeg_holds_no_more_than_planned() {
    for layout in [Layout::Luma8, Layout::Rgb8, Layout::Rgba8] {
        for quality in [50, 95] {
            let p = EncodeParams { progressive: true, ..EncodeParams::new(OutputFormat::Jpeg, quality) };
            let (held, planned) = measured(1600, 1200, layout, &p);
            eprintln!("progressive jpeg q{quality} {layout:?}: held {held} B ({:.2} B/pixel), planned {planned}", held as f64 / 1.92e6);
            assert!(held <= planned, "{layout:?} q{quality}: held {held}, planned {planned}");
        }
    }
}

#[test]
fn a_size_search_holds_no_more_than_planned() {
    for format in [OutputFormat::Jpeg, OutputFormat::Webp] {
        // Small enough that the search runs several encodes, large enough that one fits.
        let p = EncodeParams { max_bytes: Some(40_000), ..EncodeParams::new(format, 95) };
        let (held, planned) = measured(800, 600, Layout::Rgb8, &p);
        eprintln!("{format:?} with max_bytes: held {held} B, planned {planned}");
        assert!(held <= planned, "{format:?}: held {held}, planned {planned}");
    }
}

#[test]
fn avif_holds_no_more_than_planned() {
    let cases = [(64, 64, Layout::Rgb8, 70), (333, 201, Layout::Luma8, 70), (333, 201, Layout::Rgba8, 95), (640, 480, Layout::Rgb8, 85)];
    for (w, h, layout, quality) in cases {
        let (held, planned) = measured(w, h, layout, &EncodeParams::new(OutputFormat::Avif, quality));
        let per_pixel = held as f64 / f64::from(w * h);
        eprintln!("avif {w}x{h} {layout:?} q{quality}: held {held} B ({per_pixel:.2} B/pixel), planned {planned}");
        assert!(held <= planned, "{w}x{h} {layout:?} q{quality}: held {held}, planned {planned}");
    }
}

/// The worst content at the sizes the tiling admits: 1600×1200 noise up to quality 95 (the
/// default budget's limit there), and quality 100 (rav1e's lossless mode) at 640×480.
#[test]
fn avif_in_tiles_holds_no_more_than_planned_on_noise() {
    for (w, h, quality) in [(1600, 1200, 85), (1600, 1200, 95), (640, 480, 100)] {
        let (held, planned) = held_and_planned(noise(w, h, Layout::Rgb8), &EncodeParams::new(OutputFormat::Avif, quality));
        let per_pixel = held as f64 / f64::from(w * h);
        eprintln!("avif noise {w}x{h} q{quality}: held {held} B ({per_pixel:.2} B/pixel), planned {planned}");
        assert!(held <= planned, "noise {w}x{h} q{quality}: held {held}, planned {planned}");
    }
}

/// Noise at full quality is libwebp's worst case: every coefficient is coded, so its token
/// buffer (up to 2 MP) is largest; above 2 MP it runs without one (`low_memory`).
#[test]
fn lossy_webp_of_noise_at_full_quality_holds_no_more_than_planned() {
    for (w, h) in [(640, 480), (2000, 1200)] {
        for layout in [Layout::Luma8, Layout::LumaA8, Layout::Rgb8, Layout::Rgba8] {
            let (held, planned) = held_and_planned(noise(w, h, layout), &EncodeParams::new(OutputFormat::Webp, 100));
            let per_pixel = held as f64 / f64::from(w * h);
            eprintln!("lossy webp of noise {w}x{h} {layout:?} q100: held {held} B ({per_pixel:.2} B/pixel), planned {planned}");
            assert!(held <= planned, "{w}x{h} {layout:?}: held {held}, planned {planned}");
        }
    }
}
