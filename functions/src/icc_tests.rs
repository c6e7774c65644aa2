//! Tests of colour management: finding the profile, recognising sRGB, converting.

use super::*;

fn jpeg_with_app2(chunks: &[(u8, u8, &[u8])]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    for (seq, count, data) in chunks {
        let mut segment = b"ICC_PROFILE\0".to_vec();
        segment.extend([*seq, *count]);
        segment.extend_from_slice(data);
        out.extend([0xFF, 0xE2]);
        out.extend(u16::try_from(segment.len() + 2).expect("small").to_be_bytes());
        out.extend(segment);
    }
    out.extend([0xFF, 0xDA, 0, 2]);
    out
}

#[test]
fn a_jpeg_profile_split_over_segments_is_joined_in_sequence_order() {
    let jpeg = jpeg_with_app2(&[(2, 2, b"world"), (1, 2, b"hello ")]);
    assert_eq!(jpeg_profile(&jpeg).as_deref(), Some(b"hello world".as_slice()));
    assert_eq!(jpeg_profile(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2]), None);
    assert_eq!(jpeg_profile(&[0xFF, 0xD8, 0xFF, 0xE2, 0xFF]), None, "a truncated segment is no profile");
}

fn profiled(profile: &ColorProfile) -> Vec<u8> {
    let icc = profile.encode().expect("encode the profile");
    let chunks: Vec<(u8, u8, &[u8])> = icc.chunks(60_000).enumerate().map(|(i, c)| (i as u8 + 1, 1, c)).collect();
    jpeg_with_app2(&chunks)
}

#[test]
fn srgb_is_left_alone_and_wide_gamuts_are_not() {
    assert!(SourceProfile::of(&profiled(&ColorProfile::new_srgb()), Format::Jpeg).is_none(), "sRGB needs no conversion");
    assert!(SourceProfile::of(&profiled(&ColorProfile::new_display_p3()), Format::Jpeg).is_some());
    assert!(SourceProfile::of(&profiled(&ColorProfile::new_adobe_rgb()), Format::Jpeg).is_some());
    assert!(SourceProfile::of(&jpeg_with_app2(&[(1, 1, b"not a profile")]), Format::Jpeg).is_none(), "unreadable: ignored");
}

#[test]
fn display_p3_red_becomes_the_most_saturated_srgb_red() {
    let p3 = SourceProfile::of(&profiled(&ColorProfile::new_display_p3()), Format::Jpeg).expect("p3");
    // P3's pure red lies outside sRGB: it clips to sRGB red. P3 mid-gray stays gray.
    let mut raster = Raster::new(2, 1, Layout::Rgb8, vec![255, 0, 0, 128, 128, 128]).expect("raster");
    p3.to_srgb(&mut raster).expect("convert");
    assert_eq!(&raster.pixels[..3], &[255, 0, 0]);
    assert!(raster.pixels[3..].iter().all(|&v| v.abs_diff(128) <= 1), "{:?}", &raster.pixels[3..]);
    // A P3 orange-red inside sRGB moves towards it: less green than the sRGB reading would keep.
    let mut inside = Raster::new(1, 1, Layout::Rgba8, vec![200, 100, 50, 77]).expect("raster");
    p3.to_srgb(&mut inside).expect("convert");
    assert!(inside.pixels[0] > 200 && inside.pixels[1] < 100, "{:?}", inside.pixels);
    assert_eq!(inside.pixels[3], 77, "alpha is untouched");
}

/// What `icc: "keep"` does through a whole chain, on a Display P3 PNG (scripts/icc-fixtures.sh).
mod keep {
    use crate::chain::Chain;
    use crate::format::Format;
    use crate::plan::{plan, Limits};
    use crate::session::{run_chain, Session, StepOutput};
    use serde_json::json;
    use std::collections::HashMap;

    const P3_PNG: &[u8] = include_bytes!("../tests/fixtures/icc/p3.png");
    const LIMITS: Limits = Limits { max_pixels: 1 << 24, memory_budget: 1 << 30 };

    fn run(steps: serde_json::Value) -> StepOutput {
        run_chain(&Chain::parse(&steps).expect("chain"), P3_PNG.to_vec(), LIMITS, &HashMap::new()).expect("runs")
    }

    fn source_profile() -> Vec<u8> {
        crate::icc::embedded(P3_PNG, Format::Png).expect("the fixture is profiled")
    }

    #[test]
    fn keep_embeds_the_source_profile_and_leaves_the_pixels_unconverted() {
        let stored = image::load_from_memory(P3_PNG).expect("decodes").to_rgb8();
        let kept = run(json!([{"op": "encode", "format": "png", "icc": "keep"}]));
        assert_eq!(crate::icc::embedded(&kept.bytes, Format::Png), Some(source_profile()));
        assert_eq!(image::load_from_memory(&kept.bytes).expect("decodes").to_rgb8(), stored, "the P3 values, as stored");
        let converted = run(json!([{"op": "encode", "format": "png"}]));
        assert_eq!(crate::icc::embedded(&converted.bytes, Format::Png), None, "sRGB outputs carry no profile");
        assert_ne!(image::load_from_memory(&converted.bytes).expect("decodes").to_rgb8(), stored);
    }

    #[test]
    fn keep_writes_the_profile_into_jpeg_and_both_webps_and_they_still_decode() {
        for encode in [
            json!({"op": "encode", "format": "jpeg", "icc": "keep"}),
            json!({"op": "encode", "format": "jpeg", "icc": "keep", "progressive": true}),
            json!({"op": "encode", "format": "webp", "icc": "keep"}),
            json!({"op": "encode", "format": "webp", "icc": "keep", "lossless": true}),
        ] {
            let out = run(json!([{"op": "resize", "width": 48}, encode.clone()]));
            let format = out.format.expect("a format");
            assert_eq!(crate::icc::embedded(&out.bytes, format), Some(source_profile()), "{encode}");
            let decoded = image::load_from_memory(&out.bytes).expect("decodes");
            assert_eq!((decoded.width(), decoded.height()), (48, 32), "{encode}");
        }
    }

    #[test]
    fn a_gray_output_gets_no_rgb_profile() {
        for format in ["png", "jpeg"] {
            let out = run(json!([{"op": "grayscale"}, {"op": "encode", "format": format, "icc": "keep"}]));
            assert_eq!(crate::icc::embedded(&out.bytes, out.format.expect("format")), None, "{format}");
        }
    }

    #[test]
    fn a_session_keeping_the_profile_makes_no_checkpoint_a_resumed_job_could_not_honour() {
        let checkpoint_after_resize = |icc: &str| {
            let chain =
                Chain::parse(&json!([{"op": "resize", "width": 48}, {"op": "encode", "format": "png", "icc": icc}])).expect("chain");
            let mut session = Session::start(chain.steps(), Format::Png, LIMITS, P3_PNG.to_vec(), 0);
            session.run_next(&HashMap::new()).expect("resize");
            session.checkpoint()
        };
        assert!(checkpoint_after_resize("keep").is_none());
        assert!(checkpoint_after_resize("convert").is_some());
    }

    #[test]
    fn the_plan_counts_the_held_profile_in_every_format_that_keeps_one() {
        let info = crate::format::probe(P3_PNG).expect("probe");
        for format in ["png", "avif"] {
            let peak = |icc: &str| {
                let chain = Chain::parse(&json!([{"op": "encode", "format": format, "icc": icc}])).expect("chain");
                plan(&info, P3_PNG.len() as u64, &chain, LIMITS).expect("plans").peak_bytes
            };
            assert_eq!(peak("keep") - peak("convert"), 2 * crate::icc::MAX_PROFILE_BYTES as u64, "{format}");
        }
    }

    #[test]
    fn keep_embeds_the_source_profile_in_an_avif_and_convert_none() {
        let kept = run(json!([{"op": "encode", "format": "avif", "icc": "keep"}]));
        let profile = source_profile();
        assert!(kept.bytes.windows(profile.len()).any(|w| w == profile), "the whole profile is in the file");
        let converted = run(json!([{"op": "encode", "format": "avif"}]));
        assert!(!converted.bytes.windows(8).any(|w| w == b"colrprof"), "sRGB output: no profile");
    }
}
