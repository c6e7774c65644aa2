//! The tile count `avif::encode` asks for, split by rav1e's own tiling code, never gives a tile
//! larger than `avif::LARGEST_TILE`, the pixels the planner counts the symbol record for.

use functions::ops::avif::{tiles_for, LARGEST_TILE};
use rav1e::prelude::{ChromaSampling, EncoderConfig, Rational, Sequence};

/// The largest tile, in pixels, rav1e makes of a `w × h` still image asked for `tiles` tiles,
/// configured as ravif 0.13 configures it (one frame a second, 4:4:4).
fn largest_tile(w: usize, h: usize, tiles: usize) -> u64 {
    let config = EncoderConfig {
        width: w,
        height: h,
        time_base: Rational::new(1, 1),
        still_picture: true,
        chroma_sampling: ChromaSampling::Cs444,
        tiles,
        ..EncoderConfig::default()
    };
    let t = Sequence::new(&config).tiling;
    let side = |tile_sb: usize, frame: usize| (tile_sb << t.sb_size_log2).min(frame) as u64;
    side(t.tile_width_sb, w) * side(t.tile_height_sb, h)
}

#[test]
fn no_tile_is_larger_than_planned_at_any_size_or_shape() {
    let mut worst = (0, 0, 0);
    for w in (16..=8192).step_by(61) {
        for h in (16..=8192).step_by(67) {
            let largest = largest_tile(w, h, tiles_for((w * h) as u64));
            assert!(largest <= LARGEST_TILE, "{w}x{h}: a tile of {largest} pixels, planned {LARGEST_TILE}");
            worst = worst.max((largest, w, h));
        }
    }
    eprintln!("largest tile {} pixels at {}x{}", worst.0, worst.1, worst.2);
}

#[test]
fn a_1600x1200_frame_is_split_into_sixteen_tiles() {
    assert_eq!(tiles_for(1600 * 1200), 15);
    // rav1e rounds 15 up to its power-of-two grid: 4 × 4 tiles of 7 × 5 superblocks.
    assert_eq!(largest_tile(1600, 1200, 15), 448 * 320);
}
