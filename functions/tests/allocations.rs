//! What decoding hostile files really allocates, measured by a counting allocator: headers that
//! lie about what a decoder will allocate (frames larger than their canvas, bitstreams larger
//! than their container, declared sizes the data cannot fill) are refused within the memory
//! budget, and probing reads headers only.

#[path = "support/counting.rs"]
mod counting;
#[path = "support/hostile.rs"]
mod hostile;

use counting::peak;

use functions::decode::DecodeOptions;
use functions::format::probe;
use functions::plan::Limits;
use functions::session::run_chain;
use functions::{Chain, Format};
use serde_json::json;
use std::collections::HashMap;

/// The production pixel cap with a small budget: a decoder bounded by the pixel cap (the
/// defect) allocates hundreds of MB on these files; one bounded by the budget, at most this.
const LIMITS: Limits = Limits { max_pixels: 100_000_000, memory_budget: 32 << 20 };

/// A step that needs every pixel (no shrink-on-load), then an encode.
fn full_decode() -> Chain {
    Chain::parse(&json!([{"op": "grayscale"}, {"op": "encode", "format": "png"}])).expect("chain")
}

/// Probes and runs `bytes` as the Worker does; the error code and the peak bytes held.
fn decode(bytes: &[u8]) -> (Result<(), &'static str>, u64) {
    let input = bytes.to_vec();
    let (probed, probe_peak) = peak(|| probe(bytes).map(|_| ()).map_err(|e| e.code()));
    let (ran, run_peak) = peak(|| run_chain(&full_decode(), input, LIMITS, &HashMap::new()).map(|_| ()).map_err(|e| e.code()));
    (probed.and(ran), probe_peak.max(run_peak))
}

#[test]
fn a_gif_frame_larger_than_its_screen_is_refused_without_allocating_it() {
    let bomb = hostile::gif((1, 1), (8000, 8000));
    let err = probe(&bomb).expect_err("refused at upload");
    assert_eq!(err.code(), "invalid_image");
    assert!(err.to_string().contains("8000x8000") && err.to_string().contains("1x1"), "{err}");
    let (outcome, held) = decode(&bomb);
    assert_eq!(outcome, Err("invalid_image"));
    assert!(held < 1 << 20, "held {held} bytes for a 1x1 screen");
    // A frame inside its screen still decodes.
    let (outcome, _) = decode(&hostile::gif_image((64, 64), (8, 8)));
    assert_eq!(outcome, Ok(()));
}

#[test]
fn a_webp_bitstream_larger_than_its_canvas_is_refused_without_allocating_it() {
    let still = hostile::riff(&[hostile::vp8x(0, 1, 1), hostile::vp8(16383, 16383)]);
    let frame = hostile::anmf(1, 1, &hostile::vp8(16383, 16383));
    let animated = hostile::riff(&[hostile::vp8x(0x02, 1, 1), hostile::chunk(b"ANIM", &[0; 6]), frame]);
    for (name, bomb) in [("still", still), ("animated", animated)] {
        let err = probe(&bomb).expect_err(name);
        assert_eq!(err.code(), "invalid_image", "{name}: {err}");
        assert!(err.to_string().contains("16383x16383"), "{name}: {err}");
        let (outcome, held) = decode(&bomb);
        assert_eq!(outcome, Err("invalid_image"), "{name}");
        assert!(held < 1 << 20, "{name}: held {held} bytes for a 1x1 canvas");
    }
}

#[test]
fn probing_an_animated_webp_reads_headers_only_and_decoding_takes_the_first_frame() {
    let webp = hostile::animated_webp(256, 256, 40);
    let (info, held) = peak(|| probe(&webp).expect("valid animation"));
    assert_eq!((info.width, info.height), (256, 256));
    assert!(held < 64 << 10, "probing held {held} bytes (40 frames of 256 KiB each)");
    assert!(info.wide, "the planner counts the canvas beside the first frame");
    let opts = DecodeOptions {
        hint: None,
        max_pixels: LIMITS.max_pixels,
        max_alloc: LIMITS.decoder_bytes(webp.len()),
        orient: true,
        keep_profile: false,
    };
    let raster = functions::raster::load(webp, &opts).expect("decodes");
    assert_eq!((raster.width, raster.height, raster.pixels.len()), (256, 256, 256 * 256 * 4));
}

#[test]
fn decoders_refuse_from_the_header_what_the_memory_budget_cannot_hold() {
    // Within the pixel cap (100 M), far beyond a 32 MiB budget; the data behind is 8x8 pixels.
    let lies = [
        ("jpeg", hostile::jpeg_declaring(9000, 9000)),
        ("png", hostile::png_declaring(10_000, 9000)),
        ("bmp", hostile::bmp_declaring(9000, 9000)),
        ("tiff", hostile::tiff_declaring(9000, 9000)),
        ("gif", hostile::gif((9000, 9000), (8, 8))),
    ];
    for (name, bytes) in lies {
        let (outcome, held) = decode(&bytes);
        assert!(matches!(outcome, Err("image_too_large" | "invalid_image")), "{name}: {outcome:?}");
        assert!(held <= LIMITS.memory_budget, "{name}: held {} MiB, budget {} MiB", held >> 20, LIMITS.memory_budget >> 20);
    }
}

#[test]
fn every_seed_decodes_within_what_the_planner_counts() {
    for (name, bytes) in hostile::seeds() {
        let info = probe(&bytes).expect(name);
        let planned = functions::plan::plan(&info, bytes.len() as u64, &full_decode(), LIMITS).expect(name);
        let input = bytes.clone();
        let (ran, held) = peak(|| run_chain(&full_decode(), input, LIMITS, &HashMap::new()));
        assert!(ran.is_ok(), "{name}: {ran:?}");
        // Fixed costs (tables, the PNG encoder's state) dwarf these tiny rasters: allow 1 MiB.
        assert!(held <= planned.peak_bytes + (1 << 20), "{name}: held {held}, planned {}", planned.peak_bytes);
    }
}

/// 512×512 files of every decoder path: each layout, sampling and frame geometry.
fn layouts() -> Vec<(&'static str, Vec<u8>)> {
    let n = 512u32;
    let photo = hostile::rgb(n, n);
    let rgba: image::DynamicImage = photo.to_rgba8().into();
    let encode = |img: &image::DynamicImage, format| {
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), format).expect("fixture");
        out
    };
    let jpeg = |progressive: bool| {
        let mut out = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
        encoder.set_progressive(progressive);
        encoder.encode(photo.as_bytes(), 512, 512, jpeg_encoder::ColorType::Rgb).expect("jpeg");
        out
    };
    let mut webp = Vec::new();
    image_webp::WebPEncoder::new(&mut webp).encode(rgba.as_bytes(), n, n, image_webp::ColorType::Rgba8).expect("webp");
    let wide: image::DynamicImage = image::DynamicImage::ImageRgb16(photo.to_rgb16());
    vec![
        ("webp", webp),
        ("webp-animated", hostile::animated_webp(n, n, 2)),
        ("png", encode(&rgba, image::ImageOutputFormat::Png)),
        ("png-16", encode(&wide, image::ImageOutputFormat::Png)),
        ("gif", encode(&rgba, image::ImageOutputFormat::Gif)),
        ("gif-small-frame", hostile::gif_image((512, 512), (500, 500))),
        ("tiff", encode(&photo, image::ImageOutputFormat::Tiff)),
        ("tiff-16", encode(&wide, image::ImageOutputFormat::Tiff)),
        ("bmp", encode(&photo, image::ImageOutputFormat::Bmp)),
        ("jpeg-444", encode(&photo, image::ImageOutputFormat::Jpeg(90))),
        ("jpeg-420", jpeg(false)),
        ("jpeg-progressive", jpeg(true)),
    ]
}

#[test]
fn each_decoder_holds_at_most_what_the_planner_counts() {
    // Huffman and colour tables, line buffers: fixed costs, whatever the size.
    const TABLES: u64 = 256 << 10;
    for (name, bytes) in layouts() {
        let info = probe(&bytes).expect(name);
        // Full size, and shrunk on load (JPEG only: the other formats decode at full size).
        for hint in [None, Some((128, 128))] {
            let opts = DecodeOptions { hint, max_pixels: LIMITS.max_pixels, max_alloc: 1 << 30, orient: true, keep_profile: false };
            let input = bytes.clone();
            let (raster, held) = peak(|| functions::raster::load(input, &opts).expect(name));
            let planned = functions::plan::decode_bytes(&info, (raster.width, raster.height));
            assert!(
                held <= planned + TABLES,
                "{name} at {}x{}: held {held} bytes, the planner counts {planned}",
                raster.width,
                raster.height
            );
        }
    }
}

#[test]
fn a_watermark_is_decoded_where_it_lies_without_a_copy() {
    // A 2x2 PNG padded to 6 MiB (under the cap): the step must not copy the stored file.
    let mut mark = Vec::new();
    image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(2, 2, image::Rgba([255, 0, 0, 255])))
        .write_to(&mut std::io::Cursor::new(&mut mark), image::ImageOutputFormat::Png)
        .expect("mark");
    mark.resize(6 << 20, 0);
    let id = "img_0123456789abcdef0123456789abcdef";
    let aux = HashMap::from([(id.to_string(), mark)]);
    let chain = Chain::parse(&json!([{"op": "watermark", "image": id}, {"op": "encode", "format": "png"}])).expect("chain");
    let input = hostile::seeds().swap_remove(0).1;
    let (out, held) = peak(|| run_chain(&chain, input, LIMITS, &aux).expect("runs"));
    assert_eq!((out.width, out.height), (24, 16));
    assert!(held < 1 << 20, "held {held} bytes: the 6 MiB watermark was copied");
}

/// `image`'s PNG chunk framing: length, type, data, CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    [&u32::try_from(data.len()).expect("small").to_be_bytes()[..], kind, data, &crc.finalize().to_be_bytes()].concat()
}

#[test]
fn a_deflated_colour_profile_is_not_inflated_past_its_cap() {
    // 256 MiB of zeros deflate to a few hundred KiB: a reader that inflates the iCCP chunk
    // whole before looking at its size holds all of it, in no plan.
    let deflated = fdeflate::compress_to_vec(&vec![0; 256 << 20]);
    let mut png = Vec::new();
    hostile::rgb(4, 4).write_to(&mut std::io::Cursor::new(&mut png), image::ImageOutputFormat::Png).expect("png");
    let iccp = png_chunk(b"iCCP", &[&b"bomb\0\0"[..], &deflated].concat());
    png.splice(33..33, iccp);
    let (profile, held) = peak(|| functions::icc::embedded(&png, Format::Png));
    assert_eq!(profile, None, "a profile over MAX_PROFILE_BYTES is ignored");
    assert!(held <= 2 * functions::icc::MAX_PROFILE_BYTES as u64, "held {held} bytes inflating the profile");
    // The decoder's own PNG reader would inflate it up to its whole allocation limit (the
    // budget) before the pixels: the file is refused first.
    let (outcome, held) = decode(&png);
    assert_eq!(outcome, Err("invalid_image"));
    assert!(held <= 2 * functions::icc::MAX_PROFILE_BYTES as u64, "held {held} bytes refusing a 4x4 image");
}

#[test]
fn colour_profiles_over_the_cap_are_dropped_before_they_are_copied() {
    // 128 APP2 segments of 64,000 bytes: an 8 MiB profile, joined whole before its size was seen.
    let mut jpeg = Vec::new();
    hostile::rgb(4, 4).write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageOutputFormat::Jpeg(80)).expect("jpeg");
    let segments: Vec<u8> = (1..=128u8)
        .flat_map(|seq| {
            let body = [&b"ICC_PROFILE\0"[..], &[seq, 128], &[7; 64_000]].concat();
            [&[0xFF, 0xE2][..], &u16::try_from(body.len() + 2).expect("fits").to_be_bytes(), &body].concat()
        })
        .collect();
    jpeg.splice(2..2, segments);
    // An 8 MiB ICCP chunk in a WebP, copied whole before its size was seen.
    let webp = hostile::riff(&[hostile::vp8x(0x20, 2, 2), hostile::chunk(b"ICCP", &vec![7; 8 << 20]), hostile::vp8l(2, 2)]);
    for (name, bytes, format) in [("jpeg", jpeg.clone(), Format::Jpeg), ("webp", webp, Format::Webp)] {
        let (profile, held) = peak(|| functions::icc::embedded(&bytes, format));
        assert_eq!(profile, None, "{name}: a profile over MAX_PROFILE_BYTES is ignored");
        assert!(held < 1 << 20, "{name}: held {held} bytes reading an oversized profile");
    }
    // jpeg-decoder copies every ICC segment as it reads the headers (8.2 MB held for this
    // file): the file is refused first.
    let (outcome, held) = decode(&jpeg);
    assert_eq!(outcome, Err("invalid_image"));
    assert!(held < 1 << 20, "held {held} bytes refusing a 4x4 JPEG");
}

#[test]
fn metadata_blocks_over_their_caps_are_dropped_before_they_are_copied() {
    // An 8 MiB eXIf chunk: the `keep` policy drops it (over MAX_EXIF) and must not copy it first.
    let mut png = Vec::new();
    hostile::rgb(4, 4).write_to(&mut std::io::Cursor::new(&mut png), image::ImageOutputFormat::Png).expect("png");
    png.splice(33..33, png_chunk(b"eXIf", &vec![0; 8 << 20]));
    let (found, held) = peak(|| functions::metadata::SourceMetadata::extract(&png, Format::Png));
    assert_eq!(found.exif, None);
    assert!(held < 1 << 20, "held {held} bytes reading an oversized EXIF block");
}
