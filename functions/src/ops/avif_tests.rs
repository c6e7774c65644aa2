//! AVIF outputs: the container says AVIF at the raster's size, alpha is carried when present,
//! quality and speed act, and the parameters are checked. Pixels are decoded back by an
//! independent decoder in functions/tests/avif_decode.rs.

use crate::metadata::MetadataPolicy;
use crate::ops::encode::{encode, EncodeParams, OutputFormat};
use crate::params::Fields;
use crate::raster::{Layout, Raster};

/// A `w × h` raster of `layout`: gradients and a texture, so the encoder has work to do.
fn photo(w: u32, h: u32, layout: Layout) -> Raster {
    let ch = layout.channels();
    let px = (0..w * h).flat_map(|i| {
        let (x, y) = (i % w, i / w);
        let v = [(x * 2 + y) as u8, (y * 3) as u8 ^ (x as u8), ((x * y) % 199) as u8, if x < w / 2 { 255 } else { 90 }];
        v.into_iter().take(ch).collect::<Vec<_>>()
    });
    Raster::new(w, h, layout, px.collect()).expect("raster")
}

/// The payload of the first box of type `kind` found anywhere in `bytes` (a flat scan: the
/// boxes these tests look for have names that do not occur in AV1 data this small).
fn find_box<'a>(bytes: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    let at = bytes.windows(4).position(|w| w == kind)?;
    let size = u32::from_be_bytes(bytes.get(at - 4..at)?.try_into().ok()?) as usize;
    bytes.get(at + 4..at - 4 + size)
}

/// The `ispe` (image spatial extents) boxes' sizes, in file order.
fn extents(bytes: &[u8]) -> Vec<(u32, u32)> {
    let mut found = Vec::new();
    let mut rest = bytes;
    while let Some(payload) = find_box(rest, b"ispe") {
        let be = |i: usize| u32::from_be_bytes(payload[i..i + 4].try_into().expect("4 bytes"));
        found.push((be(4), be(8)));
        let consumed = payload.as_ptr() as usize - rest.as_ptr() as usize + payload.len();
        rest = &rest[consumed..];
    }
    found
}

fn avif(src: Raster, quality: u8, speed: u8) -> Vec<u8> {
    encode(src, &EncodeParams { speed, ..EncodeParams::new(OutputFormat::Avif, quality) }).expect("avif")
}

#[test]
fn every_layout_encodes_to_an_avif_file_of_the_raster_size() {
    for layout in [Layout::Luma8, Layout::LumaA8, Layout::Rgb8, Layout::Rgba8] {
        let bytes = avif(photo(37, 21, layout), 80, 10);
        assert_eq!(&bytes[4..12], b"ftypavif", "{layout:?}: major brand");
        assert_eq!(extents(&bytes).first(), Some(&(37, 21)), "{layout:?}");
    }
}

#[test]
fn alpha_is_kept_as_an_auxiliary_image_and_opaque_pixels_add_none() {
    let alpha_urn: &[u8] = b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha";
    let has_alpha = |bytes: &[u8]| bytes.windows(alpha_urn.len()).any(|w| w == alpha_urn);
    let translucent = avif(photo(40, 30, Layout::Rgba8), 80, 10);
    assert!(has_alpha(&translucent));
    assert_eq!(extents(&translucent).first(), Some(&(40, 30)), "colour and alpha items share one ispe");
    assert!(has_alpha(&avif(photo(40, 30, Layout::LumaA8), 80, 10)));
    let mut opaque = photo(40, 30, Layout::Rgba8);
    opaque.pixels.chunks_exact_mut(4).for_each(|p| p[3] = 255);
    assert!(!has_alpha(&avif(opaque, 80, 10)), "all-opaque alpha is left out");
}

#[test]
fn higher_quality_costs_more_bytes_and_lower_speed_fewer() {
    let src = photo(128, 96, Layout::Rgb8);
    let (low, high) = (avif(src.clone(), 30, 10).len(), avif(src.clone(), 90, 10).len());
    assert!(low < high, "q30 {low} B, q90 {high} B");
    let (fast, slow) = (avif(src.clone(), 60, 10).len(), avif(src, 60, 4).len());
    assert!(slow < fast, "speed 4 {slow} B, speed 10 {fast} B");
}

fn parse(json: serde_json::Value) -> Result<EncodeParams, crate::params::FieldError> {
    let map = json.as_object().cloned().expect("object");
    EncodeParams::parse(&mut Fields::new(&map))
}

#[test]
fn speed_defaults_to_the_fastest_and_is_bounded() {
    let p = parse(serde_json::json!({"format": "avif", "quality": 60})).expect("valid");
    assert_eq!((p.format, p.quality, p.speed), (OutputFormat::Avif, 60, 10));
    assert_eq!(parse(serde_json::json!({"format": "avif", "speed": 1})).expect("valid").speed, 1);
    for bad in [0, 11] {
        assert_eq!(parse(serde_json::json!({"format": "avif", "speed": bad})).expect_err("refused").field, "speed");
    }
}

#[test]
fn avif_takes_every_metadata_and_icc_policy() {
    for policy in ["strip", "keep", "copyright"] {
        let p = parse(serde_json::json!({"format": "avif", "metadata": policy})).expect("valid");
        assert_eq!(p.metadata, MetadataPolicy::parse(policy));
    }
    let p = parse(serde_json::json!({"format": "avif", "icc": "keep"})).expect("valid");
    assert_eq!(p.icc, crate::icc::IccPolicy::Keep);
}

#[test]
fn a_stored_chain_without_speed_reads_with_the_default() {
    let p: EncodeParams = serde_json::from_str(r#"{"format":"avif","quality":70}"#).expect("reads");
    assert_eq!(p.speed, super::DEFAULT_SPEED);
}

/// What the planner admits under the default `MEMORY_BUDGET_BYTES` (96 MiB) for a 1600×1200 PNG
/// (planned as RGBA, the most channels) encoded to AVIF.
fn fits_the_default_budget(quality: u8, speed: u8) -> bool {
    use crate::format::{Format, ImageInfo};
    let info = ImageInfo { format: Format::Png, width: 1600, height: 1200, progressive: false, wide: false };
    let step = serde_json::json!([{"op": "encode", "format": "avif", "quality": quality, "speed": speed}]);
    let chain = crate::chain::Chain::parse(&step).expect("chain");
    let limits = crate::plan::Limits { max_pixels: 100_000_000, memory_budget: 96 << 20 };
    crate::plan::plan(&info, 1_000_000, &chain, limits).is_ok()
}

#[test]
fn a_1600x1200_avif_in_tiles_fits_the_default_budget_up_to_quality_95() {
    assert_eq!(super::tiles_for(1600 * 1200), 15, "rav1e makes 4 × 4 tiles of it");
    for quality in [1, 70, 85, 90, 95] {
        assert!(fits_the_default_budget(quality, 10), "quality {quality}");
    }
    // Above 95 the symbol record of one tile outgrows what is left; below speed 5 ravif makes
    // no tiles this small, so the whole frame's record is planned.
    assert!(!fits_the_default_budget(100, 10));
    assert!(!fits_the_default_budget(85, 4));
}

#[test]
fn the_planned_encode_memory_grows_with_quality_as_a_size_search_needs() {
    for pixels in [10_000, 300_000, 1_920_000, 8_000_000] {
        let planned: Vec<u64> = (1..=100).map(|q| super::work_bytes(pixels, q, 10)).collect();
        assert!(planned.windows(2).all(|w| w[0] <= w[1]), "{pixels} pixels");
    }
}

#[test]
fn the_planned_work_covers_the_metadata_rewrite() {
    // The rewrite holds the encoder's output and its copy with the largest profile and XMP
    // packet, after rav1e's buffers (planned by `work_bytes`) are freed.
    let blocks = (crate::icc::MAX_PROFILE_BYTES + crate::metadata::MAX_XMP) as u64;
    for pixels in [1, 64 * 64, 1600 * 1200, 1 << 24] {
        for (quality, speed) in [(1, 10), (60, 10), (100, 1)] {
            let rewrite = pixels * super::OUTPUT_BYTES + 2 * blocks;
            assert!(super::work_bytes(pixels, quality, speed) > rewrite, "{pixels} px at q{quality} s{speed}");
        }
    }
}
