//! An `encode` with `max_bytes` inside a session: the search runs one encode per
//! [`Session::advance`], so that the caller can report each encode before the next one starts.

use super::output::with_source_data;
use super::{Advance, Held, Session};
use crate::error::ImageError;
use crate::ops::encode::{self, EncodeParams};
use crate::ops::fit::Fitter;
use crate::raster::Raster;

/// A `max_bytes` search under way: the raster it encodes, and where the search stands.
pub(super) struct Fitting {
    pub(super) src: Raster,
    pub(super) params: EncodeParams,
    pub(super) fitter: Fitter,
}

impl Session<'_> {
    /// The next encode of the `max_bytes` search under way, or, once it is over, its result.
    pub(super) fn fit_next(&mut self) -> Result<Advance, ImageError> {
        let Held::Fitting(fitting) = &mut self.held else {
            return Err(ImageError::Params("no encode under way".into()));
        };
        if let Some(quality) = fitting.fitter.next_quality() {
            // What the chain keeps of the original is written in before the size is judged:
            // `max_bytes` bounds the file the client gets, metadata and profile included.
            let dims = (fitting.src.width, fitting.src.height);
            let exif = crate::metadata::encoder_exif(self.metadata.as_ref(), fitting.params.format.format(), fitting.params.metadata);
            let out = encode::encode_at(&fitting.src, &fitting.params, quality, exif.as_deref())?;
            let out = with_source_data(self.metadata.as_ref(), out, &fitting.params, dims)?;
            return Ok(Advance::Encoding(fitting.fitter.record(quality, out)));
        }
        let Held::Fitting(fitting) = std::mem::replace(&mut self.held, Held::Spent) else {
            return Err(ImageError::Params("no encode under way".into()));
        };
        let Fitting { src, params, fitter } = *fitting;
        let dims = (src.width, src.height);
        drop(src);
        let (bytes, search) = fitter.finish()?;
        self.held = Held::Encoded { bytes, format: Some(params.format.format()), dims, search: Some(search) };
        self.next += 1;
        Ok(Advance::Ran(dims))
    }
}
