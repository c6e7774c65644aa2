//! The encoders `encode` calls that need adapting to our rasters: JPEG's side limit and
//! progressive mode, GIF's RGBA frame, PNG's colour type, and flattening alpha for JPEG.

use crate::error::ImageError;
use crate::raster::{Layout, Raster};
use image::codecs::gif::GifEncoder;
use image::ColorType;

/// GIF palette quantisation speed (1–30): 10 is NeuQuant's customary trade-off; 1 (the `image`
/// crate's default) is several times slower for a barely visible gain.
const GIF_SPEED: i32 = 10;

pub(super) fn encode_jpeg(src: &Raster, quality: u8, progressive: bool, out: &mut Vec<u8>) -> Result<(), ImageError> {
    let side = |v: u32| {
        u16::try_from(v)
            .map_err(|_| ImageError::Params(format!("jpeg is limited to 65535 pixels a side; the image is {}x{}", src.width, src.height)))
    };
    let (w, h) = (side(src.width)?, side(src.height)?);
    // `flatten` removed alpha: the raster is gray or RGB.
    let channels = src.layout.channels();
    if progressive {
        return crate::ops::progressive::encode(&src.pixels, channels, w, h, quality, out);
    }
    *out = crate::jpeg::encode::encode(&src.pixels, channels, src.width as usize, src.height as usize, quality);
    Ok(())
}

/// One GIF frame. The `image` crate's GIF path needs RGBA; alpha 0 becomes the transparent index.
pub(super) fn encode_gif(src: &Raster, out: &mut Vec<u8>) -> Result<(), ImageError> {
    let (w, h) = (src.width, src.height);
    if w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
        return Err(ImageError::Params(format!("gif is limited to 65535 pixels a side; the image is {w}x{h}")));
    }
    let rgba = match src.layout {
        Layout::Rgba8 => src.pixels.clone(),
        Layout::Rgb8 => src.pixels.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        Layout::LumaA8 => src.pixels.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect(),
        Layout::Luma8 => src.pixels.iter().flat_map(|&l| [l, l, l, 255]).collect(),
    };
    let buffer = image::RgbaImage::from_raw(w, h, rgba).ok_or_else(|| ImageError::Invalid("gif frame buffer size".into()))?;
    // The encoder writes the GIF trailer when dropped, so it must be gone before `out` is used.
    let mut encoder = GifEncoder::new_with_speed(out, GIF_SPEED);
    encoder.encode_frame(image::Frame::new(buffer)).map_err(|e| ImageError::Invalid(format!("cannot encode the gif: {e}")))?;
    drop(encoder);
    Ok(())
}

pub(super) fn color_type(layout: Layout) -> ColorType {
    match layout {
        Layout::Luma8 => ColorType::L8,
        Layout::LumaA8 => ColorType::La8,
        Layout::Rgb8 => ColorType::Rgb8,
        Layout::Rgba8 => ColorType::Rgba8,
    }
}

/// Drops alpha by compositing over white (what a viewer shows for transparent areas).
pub(super) fn flatten(src: Raster) -> Raster {
    let over_white = |c: u8, a: u8| ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a)) + 127) / 255) as u8;
    let Raster { width, height, layout, pixels } = src;
    let (layout, pixels) = match layout {
        Layout::LumaA8 => (Layout::Luma8, pixels.chunks_exact(2).map(|p| over_white(p[0], p[1])).collect()),
        Layout::Rgba8 => (Layout::Rgb8, pixels.chunks_exact(4).flat_map(|p| [0, 1, 2].map(|i| over_white(p[i], p[3]))).collect()),
        other => (other, pixels),
    };
    Raster { width, height, layout, pixels }
}
