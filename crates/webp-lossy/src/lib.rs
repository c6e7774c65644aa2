//! Lossy WebP (VP8) through libwebp's own encoder, behind a safe API: the only crate of the workspace with `unsafe`, kept to the FFI calls, the libc
//! shim that wasm32 needs ([`libc`] module) and, on wasm32, the SIMD kernels that replace
//! libwebp's plain-C ones ([`simd`] module).
//!
//! Why libwebp and not a pure-Rust encoder: zenwebp 0.2.1 (the last MIT release) spent 1.25–1.42×
//! cwebp's bytes at equal SSIM and ~10× its time (docs/BENCHMARKS.md); this is cwebp's encoder,
//! called with cwebp's defaults, so its output is byte for byte what `cwebp -q Q -m M` writes.

#[cfg(target_arch = "wasm32")]
mod libc;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd;

use libwebp_sys as sys;
use std::ffi::{c_int, c_void};
use thiserror::Error;

/// The pixels to encode: 8-bit, rows packed (`width × channels` bytes a row). A fourth (or, for
/// gray, second) byte is skipped: the caller stores alpha itself (see functions/src/ops/webp.rs
/// for why not libwebp's ALPH encoder).
#[derive(Debug, Clone, Copy)]
pub enum Pixels<'a> {
    Luma(&'a [u8]),
    LumaX(&'a [u8]),
    Rgb(&'a [u8]),
    Rgbx(&'a [u8]),
}

impl Pixels<'_> {
    fn channels(&self) -> usize {
        match self {
            Pixels::Luma(_) => 1,
            Pixels::LumaX(_) => 2,
            Pixels::Rgb(_) => 3,
            Pixels::Rgbx(_) => 4,
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Pixels::Luma(p) | Pixels::LumaX(p) | Pixels::Rgb(p) | Pixels::Rgbx(p) => p,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EncodeError {
    #[error("{width}x{height} is not a size lossy webp can hold (1 to 16383 pixels a side)")]
    BadDimensions { width: u32, height: u32 },
    #[error("the pixel buffer holds {got} bytes; {width}x{height} needs {want}")]
    BadBuffer { width: u32, height: u32, got: usize, want: usize },
    #[error("libwebp ran out of memory")]
    OutOfMemory,
    #[error("libwebp failed: {0}")]
    Encoder(String),
}

/// The encoder's settings; everything else is libwebp's default, as cwebp's.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// 0–100 (cwebp's `-q`).
    pub quality: f32,
    /// 0–6, speed against size (cwebp's `-m`).
    pub method: u8,
    /// cwebp's `-low_memory`: no token buffer (from method 3 up, libwebp records every
    /// coefficient's tokens for the whole image before writing, up to ~25 bytes a pixel on noise
    /// at q100); a second analysis pass instead, a few per cent of bytes' difference at most.
    pub low_memory: bool,
}

/// Encodes `pixels` (`width × height`) with `settings`, appending the RIFF file to `out`.
pub fn encode(pixels: Pixels, width: u32, height: u32, settings: Settings, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let (w, h) = match (c_int::try_from(width), c_int::try_from(height)) {
        (Ok(w), Ok(h)) if (1..=sys::WEBP_MAX_DIMENSION as c_int).contains(&w) && (1..=sys::WEBP_MAX_DIMENSION as c_int).contains(&h) => {
            (w, h)
        }
        _ => return Err(EncodeError::BadDimensions { width, height }),
    };
    let want = width as usize * height as usize * pixels.channels();
    if pixels.bytes().len() != want {
        return Err(EncodeError::BadBuffer { width, height, got: pixels.bytes().len(), want });
    }
    let config = config(settings)?;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd::install();
    let mut picture = Picture::new(w, h)?;
    picture.import(pixels)?;
    picture.encode(&config, out)
}

fn config(settings: Settings) -> Result<sys::WebPConfig, EncodeError> {
    let mut config = std::mem::MaybeUninit::<sys::WebPConfig>::uninit();
    let version = sys::WEBP_ENCODER_ABI_VERSION as c_int;
    // SAFETY: the init function fills every field of the config it is given.
    let mut config = unsafe {
        if sys::WebPConfigInitInternal(
            config.as_mut_ptr(),
            sys::WebPPreset::WEBP_PRESET_DEFAULT,
            settings.quality.clamp(0.0, 100.0),
            version,
        ) == 0
        {
            return Err(EncodeError::Encoder("libwebp's encoder ABI does not match its headers".into()));
        }
        config.assume_init()
    };
    config.method = c_int::from(settings.method.min(6));
    config.low_memory = c_int::from(settings.low_memory);
    // SAFETY: a fully initialised config, only read.
    match unsafe { sys::WebPValidateConfig(&config) } {
        0 => Err(EncodeError::Encoder("invalid configuration".into())),
        _ => Ok(config),
    }
}

/// A `WebPPicture` in YUV(A) 4:2:0, freed on drop.
struct Picture(sys::WebPPicture);

impl Picture {
    fn new(width: c_int, height: c_int) -> Result<Self, EncodeError> {
        let mut picture = std::mem::MaybeUninit::<sys::WebPPicture>::uninit();
        // SAFETY: the init function fills every field; the picture owns no memory yet.
        let mut picture = unsafe {
            if sys::WebPPictureInitInternal(picture.as_mut_ptr(), sys::WEBP_ENCODER_ABI_VERSION as c_int) == 0 {
                return Err(EncodeError::Encoder("libwebp's encoder ABI does not match its headers".into()));
            }
            picture.assume_init()
        };
        picture.width = width;
        picture.height = height;
        picture.use_argb = 0;
        Ok(Picture(picture))
    }

    /// Converts to YUV 4:2:0 as cwebp does (libwebp's importers; gray is written straight into
    /// the planes, see [`Picture::import_gray`]).
    fn import(&mut self, pixels: Pixels) -> Result<(), EncodeError> {
        let stride = self.0.width * pixels.channels() as c_int;
        let p = &mut self.0;
        // SAFETY: the buffer holds `height` rows of `stride` bytes (checked by `encode`).
        let ok = unsafe {
            match pixels {
                Pixels::Rgb(rgb) => sys::WebPPictureImportRGB(p, rgb.as_ptr(), stride),
                Pixels::Rgbx(rgbx) => sys::WebPPictureImportRGBX(p, rgbx.as_ptr(), stride),
                Pixels::Luma(l) => return self.import_gray(l, 1),
                Pixels::LumaX(lx) => return self.import_gray(lx, 2),
            }
        };
        match ok {
            0 => Err(error_of(p.error_code)),
            _ => Ok(()),
        }
    }

    /// Gray into YUV without an RGB copy: libwebp's RGB→Y of (g, g, g), rounded as its importer
    /// rounds (`VP8RGBToY` with `YUV_HALF`), and neutral chroma (its U and V of gray are 128).
    /// `step`: bytes from one gray sample to the next.
    fn import_gray(&mut self, samples: &[u8], step: usize) -> Result<(), EncodeError> {
        let p = &mut self.0;
        p.colorspace = sys::WebPEncCSP::WEBP_YUV420;
        // SAFETY: allocates the planes for the picture's size and colourspace.
        if unsafe { sys::WebPPictureAlloc(p) } == 0 {
            return Err(error_of(p.error_code));
        }
        let (w, h) = (p.width as usize, p.height as usize);
        let (uv_w, uv_h) = (w.div_ceil(2), h.div_ceil(2));
        // SAFETY: WebPPictureAlloc made a Y plane of `h` rows of `w` samples at `y_stride`, and
        // U/V planes of `uv_h` rows of `uv_w` at `uv_stride`; nothing else refers to them yet.
        unsafe {
            for (row, src) in samples.chunks_exact(w * step).enumerate().take(h) {
                let y = std::slice::from_raw_parts_mut(p.y.add(row * p.y_stride as usize), w);
                for (y, g) in y.iter_mut().zip(src.iter().step_by(step)) {
                    *y = ((56_318 * u32::from(*g) + (16 << 16) + (1 << 15)) >> 16) as u8;
                }
            }
            for row in 0..uv_h {
                p.u.add(row * p.uv_stride as usize).write_bytes(128, uv_w);
                p.v.add(row * p.uv_stride as usize).write_bytes(128, uv_w);
            }
        }
        Ok(())
    }

    fn encode(&mut self, config: &sys::WebPConfig, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let p = &mut self.0;
        p.writer = Some(append);
        p.custom_ptr = (out as *mut Vec<u8>).cast::<c_void>();
        // SAFETY: a valid config and an imported picture; `append` gets `out` back through
        // `custom_ptr`, which lives for the whole call and is not touched by us meanwhile.
        let ok = unsafe { sys::WebPEncode(config, p) };
        p.writer = None;
        p.custom_ptr = std::ptr::null_mut();
        match ok {
            0 => Err(error_of(p.error_code)),
            _ => Ok(()),
        }
    }
}

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: frees what libwebp allocated for this picture (nothing if nothing was).
        unsafe { sys::WebPPictureFree(&mut self.0) }
    }
}

/// libwebp's writer callback: appends each chunk of the file to the `Vec` in `custom_ptr`.
unsafe extern "C" fn append(data: *const u8, size: usize, picture: *const sys::WebPPicture) -> c_int {
    // SAFETY: `Picture::encode` set `custom_ptr` to a live `&mut Vec<u8>`; libwebp hands `size`
    // readable bytes at `data` (or none).
    let out = &mut *(*picture).custom_ptr.cast::<Vec<u8>>();
    if size > 0 {
        if out.try_reserve(size).is_err() {
            return 0;
        }
        out.extend_from_slice(std::slice::from_raw_parts(data, size));
    }
    1
}

fn error_of(code: sys::WebPEncodingError) -> EncodeError {
    use sys::WebPEncodingError as E;
    match code {
        E::VP8_ENC_ERROR_OUT_OF_MEMORY | E::VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY => EncodeError::OutOfMemory,
        other => EncodeError::Encoder(format!("{other:?}")),
    }
}
