//! YCbCr 4:2:0 planes: the form a JPEG photo keeps from our decoder through `resize` into the
//! JPEG encoder, without ever becoming RGB.
//!
//! Why: for the most common chain of all ("make this photo smaller, as a JPEG"), RGB is a
//! detour: the decoder would upsample chroma and convert, the resizer would filter three
//! full-size channels, and the encoder would convert back and subsample. In planes that is half
//! the samples to resize, no colour conversion at all, and half the bytes between steps. Any
//! other step gets an RGB [`Raster`] as before ([`Pixels::into_raster`]).

use crate::error::ImageError;
use crate::raster::{Layout, Raster};

/// Full-resolution luma and half-resolution (rounded up) chroma, each plane row-major, unpadded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planar {
    pub width: u32,
    pub height: u32,
    pub y: Vec<u8>,
    pub cb: Vec<u8>,
    pub cr: Vec<u8>,
}

impl Planar {
    /// Size of each chroma plane for a `width × height` image.
    pub fn chroma_dims(width: u32, height: u32) -> (u32, u32) {
        (width.div_ceil(2), height.div_ceil(2))
    }

    /// Builds planes, checking every buffer against the dimensions.
    pub fn new(width: u32, height: u32, y: Vec<u8>, cb: Vec<u8>, cr: Vec<u8>) -> Result<Planar, ImageError> {
        let (cw, ch) = Self::chroma_dims(width, height);
        let luma = width as usize * height as usize;
        let chroma = cw as usize * ch as usize;
        if width == 0 || height == 0 || y.len() != luma || cb.len() != chroma || cr.len() != chroma {
            return Err(ImageError::Invalid(format!("{width}x{height} YCbCr 4:2:0 planes have the wrong sizes")));
        }
        Ok(Planar { width, height, y, cb, cr })
    }

    /// Bytes held: 1.5 per pixel.
    pub fn byte_len(&self) -> usize {
        self.y.len() + self.cb.len() + self.cr.len()
    }

    /// RGB pixels, upsampling chroma the way JPEG decoders do.
    pub fn into_raster(self) -> Raster {
        let (w, h) = (self.width, self.height);
        let pixels = crate::jpeg::planes_to_rgb(self);
        Raster { width: w, height: h, layout: Layout::Rgb8, pixels }
    }
}

/// Decoded pixels in whichever form the step at hand can take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pixels {
    Raster(Raster),
    Planar(Planar),
}

impl Pixels {
    pub fn dims(&self) -> (u32, u32) {
        match self {
            Pixels::Raster(r) => (r.width, r.height),
            Pixels::Planar(p) => (p.width, p.height),
        }
    }

    /// The shape the planner counts: YCbCr 4:2:0 planes as the RGB they become.
    pub fn shape(&self) -> crate::ops::Shape {
        match self {
            Pixels::Raster(r) => crate::ops::Shape::new(r.width, r.height, r.layout.channels() as u8),
            Pixels::Planar(p) => crate::ops::Shape::new(p.width, p.height, 3),
        }
    }

    /// The pixels as a raster (converting planes to RGB).
    pub fn into_raster(self) -> Raster {
        match self {
            Pixels::Raster(r) => r,
            Pixels::Planar(p) => p.into_raster(),
        }
    }

    /// The intermediate form stored as a checkpoint (see [`crate::raster`]), as one new
    /// buffer: a checkpoint costs one copy of the pixels, which the planner counts.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Pixels::Raster(r) => {
                let mut out = crate::raster::intermediate_header(r.layout_tag(), r.width, r.height, r.pixels.len());
                out.extend_from_slice(&r.pixels);
                out
            }
            Pixels::Planar(p) => {
                let mut out = crate::raster::intermediate_header(crate::raster::PLANAR_TAG, p.width, p.height, p.byte_len());
                out.extend_from_slice(&p.y);
                out.extend_from_slice(&p.cb);
                out.extend_from_slice(&p.cr);
                out
            }
        }
    }
}

/// Reads planes back from the body of an intermediate (the bytes after its header).
pub(crate) fn from_intermediate_body(width: u32, height: u32, mut body: Vec<u8>) -> Result<Planar, ImageError> {
    let (cw, ch) = Planar::chroma_dims(width, height);
    let luma = (width as usize).checked_mul(height as usize);
    let chroma = cw as usize * ch as usize;
    let Some(luma) = luma.filter(|l| body.len() == l + 2 * chroma) else {
        return Err(ImageError::Invalid("truncated intermediate planes".into()));
    };
    let cr = body.split_off(luma + chroma);
    let cb = body.split_off(luma);
    Planar::new(width, height, body, cb, cr)
}

#[cfg(test)]
#[path = "planar_tests.rs"]
mod tests;
