//! Test images generated in code (no binary files in the repo), including deliberately broken ones.

use image::{DynamicImage, ImageOutputFormat, RgbImage};
use std::io::Cursor;

/// The 8 bytes every PNG starts with.
pub const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// An RGB gradient: colourful on purpose, so a grayscale output is distinguishable from the input.
fn gradient(width: u32, height: u32) -> DynamicImage {
    let img = RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 255 / width.max(1)) as u8, (y * 255 / height.max(1)) as u8, 160]));
    DynamicImage::ImageRgb8(img)
}

fn encode(img: &DynamicImage, format: ImageOutputFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode a fixture image");
    out.into_inner()
}

/// A valid `width`×`height` PNG.
pub fn png_fixture(width: u32, height: u32) -> Vec<u8> {
    encode(&gradient(width, height), ImageOutputFormat::Png)
}

/// A valid `width`×`height` JPEG.
pub fn jpeg_fixture(width: u32, height: u32) -> Vec<u8> {
    encode(&gradient(width, height), ImageOutputFormat::Jpeg(90))
}

/// A PNG whose signature and IHDR are intact (so the upload, which reads only the header, accepts
/// it with the right dimensions) but whose IDAT payload is garbage, so decoding it fails later.
/// Chunk lengths and types stay as they were; only the data bytes change (the CRCs then mismatch,
/// and the zlib stream is invalid from its first byte: either way a decoder must refuse it).
pub fn corrupt_png_body(width: u32, height: u32) -> Vec<u8> {
    let mut png = png_fixture(width, height);
    let mut at = PNG_SIGNATURE.len();
    let mut corrupted = 0;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let data = at + 8..at + 8 + len;
        if &png[at + 4..at + 8] == b"IDAT" {
            png[data.clone()].fill(0xAB);
            corrupted += len;
        }
        at = data.end + 4; // skip the CRC
    }
    assert!(corrupted > 0, "the fixture PNG has no IDAT data to corrupt");
    png
}

/// Starts like a PNG, then junk where the IHDR chunk should be: not even the header parses.
pub fn png_signature_then_junk() -> Vec<u8> {
    [PNG_SIGNATURE, b"this is not an IHDR chunk at all, just junk bytes".as_slice()].concat()
}

/// Decodes a server output, insisting on the expected container format.
pub fn decode_as(bytes: &[u8], format: image::ImageFormat) -> DynamicImage {
    let guessed = image::guess_format(bytes).expect("the output has a recognisable image signature");
    assert_eq!(guessed, format, "the output is {guessed:?}, expected {format:?}");
    image::load_from_memory_with_format(bytes, format).expect("the output decodes")
}

/// Decodes an AVIF output with Debian's `avifdec` (libavif and dav1d, installed by
/// scripts/setup.sh), a decoder independent of our encoder.
pub fn avifdec(bytes: &[u8]) -> DynamicImage {
    let stem = std::env::temp_dir().join(format!("studio-e2e-{}-{}", std::process::id(), bytes.len()));
    let (input, output) = (stem.with_extension("avif"), stem.with_extension("png"));
    std::fs::write(&input, bytes).expect("write the avif");
    let run = std::process::Command::new("avifdec").arg(&input).arg(&output).output().expect("avifdec runs (scripts/setup.sh)");
    let decoded = std::fs::read(&output);
    let _ = (std::fs::remove_file(&input), std::fs::remove_file(&output));
    assert!(run.status.success(), "avifdec refused the output: {}", String::from_utf8_lossy(&run.stderr));
    image::load_from_memory(&decoded.expect("avifdec wrote a png")).expect("a png")
}
