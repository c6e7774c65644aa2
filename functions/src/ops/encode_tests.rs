//! Every encoder round-trips through the `image` crate's decoders.

use super::*;
use crate::format::probe;
use crate::params::Fields;

fn params(format: OutputFormat) -> EncodeParams {
    EncodeParams { format, quality: 85 }
}

/// A 7×5 raster of `layout` with distinct, deterministic values.
fn sample(layout: Layout) -> Raster {
    let n = 7 * 5 * layout.channels();
    Raster::new(7, 5, layout, (0..n).map(|i| (i * 37 % 251) as u8).collect()).expect("raster")
}

/// The raster expanded to RGBA, as the `image` crate's `to_rgba8` gives it.
fn to_rgba(r: &Raster) -> Vec<u8> {
    let ch = r.layout.channels();
    r.pixels
        .chunks_exact(ch)
        .flat_map(|p| match *p {
            [l] => [l, l, l, 255],
            [l, a] => [l, l, l, a],
            [r, g, b] => [r, g, b, 255],
            [r, g, b, a] => [r, g, b, a],
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn png_output_probes_back_with_the_same_size() {
    let src = Raster::new(5, 3, Layout::Luma8, vec![128; 15]).expect("raster");
    let bytes = encode(src, &params(OutputFormat::Png)).expect("png");
    let info = probe(&bytes).expect("probe");
    assert_eq!((info.format, info.width, info.height), (Format::Png, 5, 3));
}

#[test]
fn jpeg_of_transparent_pixels_is_white() {
    let src = Raster::new(8, 8, Layout::Rgba8, vec![0; 256]).expect("raster");
    let bytes = encode(src, &EncodeParams { format: OutputFormat::Jpeg, quality: 90 }).expect("jpeg");
    let back = image::load_from_memory(&bytes).expect("decode").to_rgb8();
    assert!(back.pixels().all(|p| p.0.iter().all(|&c| c > 245)), "flattened over white");
}

#[test]
fn jpeg_round_trips_close_to_the_source_in_gray_and_colour() {
    let flat = |layout, v: u8| Raster::new(16, 16, layout, vec![v; 16 * 16 * layout.channels()]).expect("raster");
    for layout in [Layout::Luma8, Layout::Rgb8] {
        let bytes = encode(flat(layout, 100), &EncodeParams { format: OutputFormat::Jpeg, quality: 95 }).expect("jpeg");
        assert_eq!(probe(&bytes).expect("probe").format, Format::Jpeg);
        let back = image::load_from_memory(&bytes).expect("decode");
        assert_eq!((back.width(), back.height()), (16, 16));
        assert!(back.to_luma8().pixels().all(|p| p.0[0].abs_diff(100) <= 2), "{layout:?}");
    }
}

#[test]
fn webp_is_lossless_for_every_layout() {
    for layout in [Layout::Luma8, Layout::LumaA8, Layout::Rgb8, Layout::Rgba8] {
        let src = sample(layout);
        let bytes = encode(src.clone(), &params(OutputFormat::Webp)).expect("webp");
        assert_eq!(probe(&bytes).expect("probe").format, Format::Webp);
        let back = image::load_from_memory(&bytes).expect("decode").to_rgba8();
        let expected = to_rgba(&src);
        assert_eq!(back.into_raw(), expected, "{layout:?}");
    }
}

#[test]
fn gif_first_frame_decodes_with_the_right_size_and_exact_colours_when_few() {
    // 4 colours: the exact-palette path, so pixels come back unchanged.
    let px: Vec<u8> = (0..12 * 9).flat_map(|i| [[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9]][i % 4]).collect();
    let src = Raster::new(12, 9, Layout::Rgb8, px.clone()).expect("raster");
    let bytes = encode(src, &params(OutputFormat::Gif)).expect("gif");
    let back = image::load_from_memory(&bytes).expect("decode");
    assert_eq!((back.width(), back.height()), (12, 9));
    assert_eq!(back.to_rgb8().into_raw(), px);
}

#[test]
fn gif_of_many_colours_and_alpha_decodes() {
    for layout in [Layout::Luma8, Layout::LumaA8, Layout::Rgba8] {
        let bytes = encode(sample(layout), &params(OutputFormat::Gif)).expect("gif");
        let info = probe(&bytes).expect("probe");
        assert_eq!((info.format, info.width, info.height), (Format::Gif, 7, 5), "{layout:?}");
    }
}

#[test]
fn a_raster_whose_buffer_lies_is_refused_not_a_panic() {
    for format in [OutputFormat::Png, OutputFormat::Jpeg, OutputFormat::Webp, OutputFormat::Gif] {
        let bad = Raster { width: 10, height: 10, layout: Layout::Rgb8, pixels: vec![0; 7] };
        assert_eq!(encode(bad, &params(format)).unwrap_err().code(), "invalid_image", "{format:?}");
    }
}

#[test]
fn parse_accepts_the_four_formats_and_names_a_bad_one() {
    for (name, format) in
        [("png", OutputFormat::Png), ("jpeg", OutputFormat::Jpeg), ("webp", OutputFormat::Webp), ("gif", OutputFormat::Gif)]
    {
        let map = serde_json::json!({"format": name});
        let p = EncodeParams::parse(&mut Fields::new(map.as_object().expect("object"))).expect(name);
        assert_eq!(p.format, format);
    }
    let map = serde_json::json!({"format": "avif"});
    assert_eq!(EncodeParams::parse(&mut Fields::new(map.as_object().expect("object"))).unwrap_err().field, "format");
}

#[test]
fn sources_we_can_write_keep_their_format() {
    assert_eq!(OutputFormat::default_for(Format::Webp), OutputFormat::Webp);
    assert_eq!(OutputFormat::default_for(Format::Gif), OutputFormat::Gif);
    assert_eq!(OutputFormat::default_for(Format::Jpeg), OutputFormat::Jpeg);
    assert_eq!(OutputFormat::default_for(Format::Bmp), OutputFormat::Png);
}
