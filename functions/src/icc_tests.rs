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
