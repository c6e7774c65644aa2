//! Times the shrink-on-load JPEG decode as the Worker runs it (YCbCr planes at 1/2, 1/4 or
//! 1/8 scale), for the diagnostic figures in docs/BENCHMARKS.md:
//!
//!     cargo build --release -p functions --example scaled_decode
//!     target/release/examples/scaled_decode <file.jpg> <eighths: 1, 2 or 4> <runs>
//!
//! It prints the fastest and the median run and a hash of the planes, so that a change to the
//! decoder can be checked to give the same output. On a shared machine the stable figure is
//! the instruction count of one run of the decoder itself:
//!
//!     valgrind --tool=callgrind --toggle-collect=functions::jpeg::decode_planes \
//!         target/release/examples/scaled_decode <file.jpg> 2 1

use functions::decode::{jpeg_header, DecodeOptions};
use functions::planar::Pixels;
use functions::raster::load_pixels;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, eighths, runs] = &args[..] else {
        eprintln!("usage: scaled_decode <file.jpg> <eighths: 1, 2 or 4> <runs>");
        std::process::exit(2);
    };
    let bytes = std::fs::read(path).expect("read the input");
    let eighths: u32 = eighths.parse().expect("eighths: 1, 2 or 4");
    let runs: usize = runs.parse().expect("runs: a count");
    let (info, _) = jpeg_header(&bytes).expect("a JPEG");
    let size = ((info.width * eighths).div_ceil(8), (info.height * eighths).div_ceil(8));
    let opts = DecodeOptions { hint: Some(size), max_pixels: 100_000_000, max_alloc: 1 << 30, orient: true, keep_profile: false };
    let (mut times, mut hash) = (Vec::new(), 0);
    for _ in 0..runs.max(1) {
        let input = bytes.clone();
        let start = Instant::now();
        let pixels = load_pixels(input, &opts, true).expect("decode");
        times.push(start.elapsed().as_secs_f64() * 1e3);
        let Pixels::Planar(p) = pixels else { panic!("the input did not decode to planes (not a 4:2:0 baseline JPEG?)") };
        assert_eq!((p.width, p.height), size, "decoded at another scale");
        // FNV-1a over the three planes.
        hash = [&p.y, &p.cb, &p.cr]
            .iter()
            .flat_map(|v| v.iter())
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3));
    }
    times.sort_by(f64::total_cmp);
    println!("{path} at {eighths}/8: fastest {:.2} ms, median {:.2} ms, planes hash {hash:016x}", times[0], times[times.len() / 2]);
}
