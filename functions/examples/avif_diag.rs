//! Diagnostic: AVIF encode time and bytes beside lossy WebP, natively, on one photo resized to
//! 1600×1200 and 256×256 (docs/BENCHMARKS.md, "AVIF"). Not a benchmark of the public routes.
//!
//!     cargo run -p functions --example avif_diag -- PHOTO.jpg [QUALITY]

use functions::chain::Chain;
use functions::ops::encode::{encode, EncodeParams, OutputFormat};
use functions::plan::Limits;
use functions::raster::{Layout, Raster};
use functions::session::run_chain;
use std::collections::HashMap;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: avif_diag PHOTO.jpg [QUALITY]");
        std::process::exit(2);
    };
    let quality: u8 = args.get(2).and_then(|q| q.parse().ok()).unwrap_or(70);
    let Ok(photo) = std::fs::read(path) else {
        eprintln!("cannot read {path}");
        std::process::exit(2);
    };
    let limits = Limits { max_pixels: 100_000_000, memory_budget: 1 << 30 };
    for (w, h) in [(1600, 1200), (256, 256)] {
        let steps = serde_json::json!([{"op": "resize", "width": w, "height": h, "fit": "cover"}, {"op": "encode", "format": "png"}]);
        let Ok(chain) = Chain::parse(&steps) else { return };
        let Ok(png) = run_chain(&chain, photo.clone(), limits, &HashMap::new()) else { return };
        let Ok(img) = image::load_from_memory(&png.bytes) else { return };
        let rgb = img.to_rgb8();
        let Ok(raster) = Raster::new(rgb.width(), rgb.height(), Layout::Rgb8, rgb.into_raw()) else { return };
        for (name, p) in [
            ("avif speed 10", EncodeParams::new(OutputFormat::Avif, quality)),
            ("webp lossy", EncodeParams::new(OutputFormat::Webp, quality)),
        ] {
            let start = Instant::now();
            let Ok(bytes) = encode(raster.clone(), &p) else { return };
            println!("{w}x{h} q{quality} {name}: {} bytes in {:.0} ms", bytes.len(), start.elapsed().as_secs_f64() * 1000.0);
        }
    }
}
