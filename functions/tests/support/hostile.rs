//! Hand-built hostile files whose headers lie about what a decoder will allocate, shared by the
//! allocation tests and the mutation test.

#![allow(dead_code)] // Each test binary uses its own subset.

use std::io::Cursor;

/// A GIF with a `screen` logical screen whose first frame declares `frame` (one pixel of LZW
/// data follows: the decoder allocates the frame before it finds out).
pub fn gif(screen: (u16, u16), frame: (u16, u16)) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend(screen.0.to_le_bytes());
    g.extend(screen.1.to_le_bytes());
    // A global colour table of two entries: black, white.
    g.extend([0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    g.push(0x2C);
    g.extend([0, 0, 0, 0]);
    g.extend(frame.0.to_le_bytes());
    g.extend(frame.1.to_le_bytes());
    g.push(0);
    // LZW, 2-bit minimum code size: clear (4), index 0, end (5) in 3-bit codes.
    g.extend([2, 2, 0x44, 0x01, 0, 0x3B]);
    g
}

/// A valid GIF: a `frame`-sized first frame at (3, 2) on a `screen`-sized logical screen.
pub fn gif_image(screen: (u16, u16), frame: (u16, u16)) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut out, screen.0, screen.1, &[0, 0, 0, 255, 255, 255]).expect("gif fixture");
        let pixels: Vec<u8> = (0..u32::from(frame.0) * u32::from(frame.1)).map(|i| (i % 2) as u8).collect();
        let mut f = gif::Frame::from_indexed_pixels(frame.0, frame.1, pixels, None);
        (f.left, f.top) = (3, 2);
        encoder.write_frame(&f).expect("gif frame");
    }
    out
}

/// A RIFF chunk, padded to an even length.
pub fn chunk(code: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut c = code.to_vec();
    c.extend(u32::try_from(payload.len()).expect("small").to_le_bytes());
    c.extend(payload);
    if payload.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// A WebP file of `chunks`.
pub fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut r = b"RIFF".to_vec();
    r.extend(u32::try_from(body.len() + 4).expect("small").to_le_bytes());
    r.extend(b"WEBP");
    r.extend(body);
    r
}

fn u24(v: u32) -> [u8; 3] {
    [v as u8, (v >> 8) as u8, (v >> 16) as u8]
}

/// The `VP8X` header of a `w × h` canvas with `flags` (0x02 animation, 0x10 alpha).
pub fn vp8x(flags: u8, w: u32, h: u32) -> Vec<u8> {
    chunk(b"VP8X", &[&[flags, 0, 0, 0][..], &u24(w - 1), &u24(h - 1)].concat())
}

/// A lossy key frame's `VP8 ` chunk declaring `w × h` (its partitions are zeros).
pub fn vp8(w: u16, h: u16) -> Vec<u8> {
    let mut p = vec![0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a];
    p.extend(w.to_le_bytes());
    p.extend(h.to_le_bytes());
    p.extend([0; 64]);
    chunk(b"VP8 ", &p)
}

/// An animation frame at (0, 0) of `w × h` holding `image` (a `VP8 `/`VP8L` chunk).
pub fn anmf(w: u32, h: u32, image: &[u8]) -> Vec<u8> {
    chunk(b"ANMF", &[&u24(0)[..], &u24(0), &u24(w - 1), &u24(h - 1), &u24(100), &[0], image].concat())
}

/// The `VP8L` chunk of a lossless `w × h` RGBA image (image-webp's encoder).
pub fn vp8l(w: u32, h: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..w * h).flat_map(|i| [(i % 251) as u8, (i / 7 % 253) as u8, 90, 255]).collect();
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out).encode(&pixels, w, h, image_webp::ColorType::Rgba8).expect("webp fixture");
    out[12..].to_vec()
}

/// An animated WebP of `frames` lossless `w × h` frames.
pub fn animated_webp(w: u32, h: u32, frames: usize) -> Vec<u8> {
    let frame = anmf(w, h, &vp8l(w, h));
    let mut chunks = vec![vp8x(0x12, w, h), chunk(b"ANIM", &[0, 0, 0, 0, 0, 0])];
    chunks.extend(std::iter::repeat_n(frame, frames));
    riff(&chunks)
}

/// CRC-32 (PNG's), to forge chunks a decoder accepts.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn encode(img: &image::DynamicImage, format: image::ImageOutputFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).expect("fixture encodes");
    out
}

/// A small photo-like RGB image.
pub fn rgb(w: u32, h: u32) -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8])))
}

/// A PNG whose IHDR (with a correct CRC, as a forger would write) declares `w × h`.
pub fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut png = encode(&rgb(8, 8).to_rgba8().into(), image::ImageOutputFormat::Png);
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A baseline JPEG whose SOF0 declares `w × h`.
pub fn jpeg_declaring(w: u16, h: u16) -> Vec<u8> {
    let mut jpg = encode(&rgb(16, 16), image::ImageOutputFormat::Jpeg(85));
    let sof = jpg.windows(2).position(|p| p == [0xFF, 0xC0]).expect("baseline");
    jpg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    jpg
}

/// A BMP whose info header declares `w × h`.
pub fn bmp_declaring(w: i32, h: i32) -> Vec<u8> {
    let mut bmp = encode(&rgb(8, 8), image::ImageOutputFormat::Bmp);
    bmp[18..22].copy_from_slice(&w.to_le_bytes());
    bmp[22..26].copy_from_slice(&h.to_le_bytes());
    bmp
}

/// A TIFF whose first IFD declares `w × h` (its one strip holds 8×8 pixels).
pub fn tiff_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut tiff = encode(&rgb(8, 8), image::ImageOutputFormat::Tiff);
    let ifd = u32::from_le_bytes([tiff[4], tiff[5], tiff[6], tiff[7]]) as usize;
    let count = usize::from(u16::from_le_bytes([tiff[ifd], tiff[ifd + 1]]));
    for e in (0..count).map(|i| ifd + 2 + 12 * i) {
        let (tag, kind) = (u16::from_le_bytes([tiff[e], tiff[e + 1]]), u16::from_le_bytes([tiff[e + 2], tiff[e + 3]]));
        let value = match tag {
            256 => w,
            257 | 278 => h,
            _ => continue,
        };
        // SHORT or LONG, stored in the entry itself.
        if kind == 3 {
            tiff[e + 8..e + 10].copy_from_slice(&(value.min(65_535) as u16).to_le_bytes());
        } else {
            tiff[e + 8..e + 12].copy_from_slice(&value.to_le_bytes());
        }
    }
    tiff
}

/// A JPEG by jpeg-encoder: 4:2:0 baseline (our own decoder's case) or progressive.
fn jpeg_encoder_file(img: &image::DynamicImage, progressive: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
    encoder.set_progressive(progressive);
    let (w, h) = (u16::try_from(img.width()).expect("small"), u16::try_from(img.height()).expect("small"));
    encoder.encode(img.as_bytes(), w, h, jpeg_encoder::ColorType::Rgb).expect("jpeg fixture");
    out
}

/// One valid small file per input format the probe accepts.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let photo = rgb(24, 16);
    let rgba: image::DynamicImage = photo.to_rgba8().into();
    let mut webp = Vec::new();
    image_webp::WebPEncoder::new(&mut webp).encode(rgba.as_bytes(), 24, 16, image_webp::ColorType::Rgba8).expect("webp fixture");
    vec![
        ("png", encode(&rgba, image::ImageOutputFormat::Png)),
        ("png-gray16", encode(&image::DynamicImage::ImageLuma16(photo.to_luma16()), image::ImageOutputFormat::Png)),
        ("jpeg", encode(&photo, image::ImageOutputFormat::Jpeg(85))),
        ("jpeg-420", jpeg_encoder_file(&photo, false)),
        ("jpeg-progressive", jpeg_encoder_file(&photo, true)),
        ("jpeg-gray", encode(&image::DynamicImage::ImageLuma8(photo.to_luma8()), image::ImageOutputFormat::Jpeg(70))),
        ("gif", encode(&rgba, image::ImageOutputFormat::Gif)),
        ("bmp", encode(&photo, image::ImageOutputFormat::Bmp)),
        ("tiff", encode(&photo, image::ImageOutputFormat::Tiff)),
        ("webp", webp),
        ("webp-animated", animated_webp(12, 8, 2)),
    ]
}
