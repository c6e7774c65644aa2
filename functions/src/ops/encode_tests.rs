//! Every encoder round-trips through the `image` crate's decoders.

use super::*;
use crate::format::probe;
use crate::params::Fields;
use crate::raster::Layout;

fn params(format: OutputFormat) -> EncodeParams {
    EncodeParams::new(format, 85)
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
    let bytes = encode(src, &EncodeParams::new(OutputFormat::Jpeg, 90)).expect("jpeg");
    let back = image::load_from_memory(&bytes).expect("decode").to_rgb8();
    assert!(back.pixels().all(|p| p.0.iter().all(|&c| c > 245)), "flattened over white");
}

#[test]
fn jpeg_round_trips_close_to_the_source_in_gray_and_colour() {
    let flat = |layout, v: u8| Raster::new(16, 16, layout, vec![v; 16 * 16 * layout.channels()]).expect("raster");
    for layout in [Layout::Luma8, Layout::Rgb8] {
        let bytes = encode(flat(layout, 100), &EncodeParams::new(OutputFormat::Jpeg, 95)).expect("jpeg");
        assert_eq!(probe(&bytes).expect("probe").format, Format::Jpeg);
        let back = image::load_from_memory(&bytes).expect("decode");
        assert_eq!((back.width(), back.height()), (16, 16));
        assert!(back.to_luma8().pixels().all(|p| p.0[0].abs_diff(100) <= 2), "{layout:?}");
    }
}

#[test]
fn lossless_webp_gives_back_the_exact_pixels_for_every_layout() {
    for layout in [Layout::Luma8, Layout::LumaA8, Layout::Rgb8, Layout::Rgba8] {
        let src = sample(layout);
        let p = EncodeParams { lossless: true, ..params(OutputFormat::Webp) };
        let bytes = encode(src.clone(), &p).expect("webp");
        assert_eq!(probe(&bytes).expect("probe").format, Format::Webp);
        assert_eq!(&bytes[12..16], b"VP8L", "{layout:?}: a lossless bitstream");
        let back = image::load_from_memory(&bytes).expect("decode").to_rgba8();
        let expected = to_rgba(&src);
        assert_eq!(back.into_raw(), expected, "{layout:?}");
    }
}

/// A 96×64 photo-like raster: smooth gradients and a faint texture, as lossy coders meet them.
fn photo(layout: Layout) -> Raster {
    let px = (0..96 * 64).flat_map(|i| {
        let (x, y) = (i % 96, i / 96);
        let v = [(x * 2 + y + (x ^ y) % 5) as u8, (y * 3) as u8, (160 - x + (x * y) % 7) as u8, (255 - x) as u8];
        v.into_iter().take(layout.channels()).collect::<Vec<_>>()
    });
    Raster::new(96, 64, layout, px.collect()).expect("raster")
}

/// Mean absolute difference of two equally long byte buffers.
fn mean_error(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| f64::from(x.abs_diff(*y))).sum::<f64>() / a.len() as f64
}

/// Decodes a WebP to RGBA with image-webp (independent of the encoder).
fn decode_webp(bytes: &[u8]) -> Vec<u8> {
    let mut d = image_webp::WebPDecoder::new(std::io::Cursor::new(bytes)).expect("webp header");
    let mut buf = vec![0; d.output_buffer_size().expect("size")];
    d.read_image(&mut buf).expect("webp decodes");
    if d.has_alpha() {
        buf
    } else {
        buf.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect()
    }
}

#[test]
fn webp_is_lossy_by_default_and_decodes_close_to_the_source_in_every_layout() {
    for layout in [Layout::Luma8, Layout::LumaA8, Layout::Rgb8, Layout::Rgba8] {
        let src = photo(layout);
        let bytes = encode(src.clone(), &params(OutputFormat::Webp)).expect("webp");
        // A lossy file is a VP8 bitstream, alone (`RIFF…WEBPVP8 `) or after VP8X/ALPH with alpha.
        assert!(bytes.windows(4).any(|w| w == b"VP8 "), "{layout:?}: no VP8 chunk");
        let (back, expected) = (decode_webp(&bytes), to_rgba(&src));
        let error = mean_error(&back, &expected);
        assert!(error < 3.0, "{layout:?}: mean error {error}");
        if layout.channels() % 2 == 0 {
            let alpha_exact = back.chunks_exact(4).zip(expected.chunks_exact(4)).all(|(a, b)| a[3] == b[3]);
            assert!(alpha_exact, "{layout:?}: alpha is stored losslessly");
        }
    }
}

#[test]
fn lossy_gray_is_what_libwebp_makes_of_the_same_gray_given_as_rgb() {
    // Gray is written into libwebp's planes directly (no RGB copy); it must match libwebp's own
    // RGB import of the same pixels, byte for byte, with and without alpha.
    for (gray, colour) in [(Layout::Luma8, Layout::Rgb8), (Layout::LumaA8, Layout::Rgba8)] {
        let src = photo(gray);
        let expanded = src.pixels.chunks_exact(gray.channels()).flat_map(|p| [p[0], p[0], p[0]].into_iter().chain(p.get(1).copied()));
        let rgb = Raster::new(src.width, src.height, colour, expanded.collect()).expect("raster");
        let p = params(OutputFormat::Webp);
        assert_eq!(encode(src, &p).expect("gray"), encode(rgb, &p).expect("rgb"), "{gray:?}");
    }
}

#[test]
fn flat_gray_and_colour_come_back_at_their_level() {
    // Gray goes into VP8's limited-range Y (webp-lossy writes the planes itself for gray): a
    // full-range Y would bring 200 back as 214.
    for (layout, px) in [(Layout::Luma8, vec![200]), (Layout::LumaA8, vec![40, 255]), (Layout::Rgb8, vec![200, 120, 30])] {
        let src = Raster::new(32, 32, layout, px.repeat(32 * 32)).expect("raster");
        let back = decode_webp(&encode(src.clone(), &params(OutputFormat::Webp)).expect("webp"));
        let error = mean_error(&back, &to_rgba(&src));
        assert!(error <= 2.0, "{layout:?}: mean error {error}");
    }
}

#[test]
fn lower_webp_quality_makes_smaller_files() {
    let size = |quality| encode(photo(Layout::Rgb8), &EncodeParams::new(OutputFormat::Webp, quality)).expect("webp").len();
    let (low, mid, high) = (size(20), size(60), size(95));
    assert!(low < mid && mid < high, "{low} {mid} {high}");
}

#[test]
fn progressive_jpeg_is_sof2_and_decodes_with_an_independent_decoder() {
    for layout in [Layout::Luma8, Layout::Rgb8, Layout::Rgba8] {
        for quality in [50, 95] {
            let src = photo(layout);
            let p = EncodeParams { progressive: true, ..EncodeParams::new(OutputFormat::Jpeg, quality) };
            let bytes = encode(src.clone(), &p).expect("jpeg");
            assert!(bytes.windows(2).any(|w| w == [0xFF, 0xC2]), "{layout:?} q{quality}: SOF2 marker");
            assert!(!bytes.windows(2).any(|w| w == [0xFF, 0xC0]), "{layout:?} q{quality}: no baseline SOF0");
            let mut decoder = jpeg_decoder::Decoder::new(bytes.as_slice());
            let pixels = decoder.decode().expect("jpeg-decoder reads it");
            let info = decoder.info().expect("info");
            assert_eq!((info.width, info.height), (96, 64));
            // As faithful as our baseline encoder at the same quality (same tables, same
            // subsampling): progression reorders the coefficients, it does not lose more.
            let baseline = encode(src.clone(), &EncodeParams::new(OutputFormat::Jpeg, quality)).expect("baseline");
            let baseline_pixels = jpeg_decoder::Decoder::new(baseline.as_slice()).decode().expect("baseline decodes");
            let expected = flatten(src).pixels;
            let (progressive_error, baseline_error) = (mean_error(&pixels, &expected), mean_error(&baseline_pixels, &expected));
            assert!(progressive_error < baseline_error + 1.0, "{layout:?} q{quality}: {progressive_error} vs baseline {baseline_error}");
        }
    }
}

#[test]
fn baseline_jpeg_stays_the_default() {
    let bytes = encode(photo(Layout::Rgb8), &EncodeParams::new(OutputFormat::Jpeg, 80)).expect("jpeg");
    assert!(bytes.windows(2).any(|w| w == [0xFF, 0xC0]) && !bytes.windows(2).any(|w| w == [0xFF, 0xC2]));
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
fn parse_accepts_the_five_formats_and_names_a_bad_one() {
    let formats = [
        ("png", OutputFormat::Png),
        ("jpeg", OutputFormat::Jpeg),
        ("webp", OutputFormat::Webp),
        ("gif", OutputFormat::Gif),
        ("avif", OutputFormat::Avif),
    ];
    for (name, format) in formats {
        let map = serde_json::json!({"format": name});
        let p = EncodeParams::parse(&mut Fields::new(map.as_object().expect("object"))).expect(name);
        assert_eq!(p.format, format);
    }
    let map = serde_json::json!({"format": "webp", "quality": 70, "lossless": true, "progressive": true, "max_bytes": 5000});
    let p = EncodeParams::parse(&mut Fields::new(map.as_object().expect("object"))).expect("every option");
    assert_eq!(p, EncodeParams { lossless: true, progressive: true, max_bytes: Some(5000), ..EncodeParams::new(OutputFormat::Webp, 70) });
    let map = serde_json::json!({"format": "heic"});
    assert_eq!(EncodeParams::parse(&mut Fields::new(map.as_object().expect("object"))).unwrap_err().field, "format");
}

#[test]
fn sources_we_can_write_keep_their_format() {
    assert_eq!(OutputFormat::default_for(Format::Webp), OutputFormat::Webp);
    assert_eq!(OutputFormat::default_for(Format::Gif), OutputFormat::Gif);
    assert_eq!(OutputFormat::default_for(Format::Jpeg), OutputFormat::Jpeg);
    assert_eq!(OutputFormat::default_for(Format::Bmp), OutputFormat::Png);
    assert!(EncodeParams::default_for(Format::Webp).lossless, "an implicit WebP output stays lossless");
}

#[test]
fn chains_stored_before_the_new_options_still_read() {
    let p: EncodeParams = serde_json::from_str(r#"{"format":"webp","quality":85}"#).expect("old form");
    assert_eq!(p, EncodeParams::new(OutputFormat::Webp, 85));
}
