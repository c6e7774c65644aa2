//! A chain run in memory: the consecutive steps of one image, one after the other, in one job.
//!
//! Why a session rather than one call per step: the queue consumer runs every step of an image
//! in one invocation (no queue hop, no R2 round trip between steps) but must still report each
//! step to the task object as it finishes, which is an `await` between steps. So the pixels live
//! here between calls, and the caller drives: [`Session::decode`], then [`Session::run_next`]
//! per step, [`Session::checkpoint`] when it wants a copy in R2, and [`Session::finish`] for the
//! encoded result.
//!
//! Between steps only the current pixels are held (the encoded original is dropped once
//! decoded), so a session's peak is its largest step's, which is what the planner counts.
//!
//! Shrink-on-load is chosen from the whole chain ([`crate::shrink::decode_hint`]): while the
//! pixels are smaller than a full decode would make them (the commuting prefix before the first
//! downscale), each step runs as [`crate::shrink::adapt`] rewrites it for the reduced size.

use crate::decode::DecodeOptions;
use crate::error::ImageError;
use crate::format::{self, Format};
use crate::icc::{self, IccPolicy};
use crate::metadata::SourceMetadata;
use crate::ops::encode::{self, EncodeParams};
use crate::ops::fit::{Attempt, Fitter, Search};
use crate::ops::orient::AutoOrient;
use crate::ops::region::Region;
use crate::ops::resize::resize_planar;
use crate::ops::ApplyCtx;
use crate::plan::Limits;
use crate::planar::Pixels;
use crate::raster;
use crate::registry::Step;
use crate::shrink;
use std::collections::HashMap;

/// Media type of intermediate rasters (checkpoints; never served to users).
pub const RASTER_MEDIA_TYPE: &str = "application/x-stellar-raster";

/// An encoded image, ready to store.
#[derive(Debug)]
pub struct StepOutput {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    pub format: Option<Format>,
    /// What `encode`'s `max_bytes` search did (quality kept, encodes run); `None` without one.
    /// Not yet in the Worker's `step.succeeded` event (that needs the event's contract).
    pub search: Option<Search>,
}

/// What the session holds between steps.
enum Held {
    /// Encoded bytes still to decode: the original (or a checkpoint) before the first step, or
    /// the output of an `encode` step.
    Encoded { bytes: Vec<u8>, format: Option<Format>, dims: (u32, u32), search: Option<Search> },
    /// Decoded pixels, and the size they would have had if the original had been decoded at
    /// full size (differs only in the shrunk prefix of the chain).
    Pixels { pixels: Pixels, nominal: (u32, u32) },
    /// An `encode` with `max_bytes` between two of its encodes ([`Session::advance`]).
    Fitting(Box<fit::Fitting>),
    /// Between a failed step and the end: nothing usable.
    Spent,
}

/// What one [`Session::advance`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    /// A step ran; the size of its output.
    Ran((u32, u32)),
    /// One encode of an `encode` step's `max_bytes` search ran; the step goes on at the next
    /// call.
    Encoding(Attempt),
}

/// One image's chain, run step by step in memory.
pub struct Session<'c> {
    steps: &'c [Step],
    source_format: Format,
    limits: Limits,
    next: usize,
    held: Held,
    /// The box the last step run kept of its input, when it chose one from the pixels.
    region: Option<Region>,
    /// The original's EXIF/XMP/IPTC and colour profile, read at decode only when the chain
    /// keeps some ([`crate::metadata`]); a session that carries some makes no checkpoints, since
    /// one started from a checkpoint could not read them.
    metadata: Option<SourceMetadata>,
}

impl<'c> Session<'c> {
    /// A session over `steps` whose next step is `first`, holding `input`: the original upload
    /// when `first` is 0, else the stored output of step `first - 1` (a checkpoint). `limits`
    /// bound the decoders: the pixel cap, and what the memory budget leaves beside the input.
    pub fn start(steps: &'c [Step], source_format: Format, limits: Limits, input: Vec<u8>, first: usize) -> Session<'c> {
        Session {
            steps,
            source_format,
            limits,
            next: first,
            held: Held::Encoded { bytes: input, format: None, dims: (0, 0), search: None },
            region: None,
            metadata: None,
        }
    }

    /// Index of the next step to run (`steps.len()` once all have run).
    pub fn next_step(&self) -> usize {
        self.next
    }

    pub fn is_done(&self) -> bool {
        self.next >= self.steps.len()
    }

    /// Decodes what is held, if it is still encoded. Separate from [`Session::run_next`] so a
    /// caller can time it; `run_next` decodes on its own when needed.
    pub fn decode(&mut self) -> Result<(), ImageError> {
        if !matches!(self.held, Held::Encoded { .. }) {
            return Ok(());
        }
        let Held::Encoded { bytes, .. } = std::mem::replace(&mut self.held, Held::Spent) else {
            return Ok(());
        };
        let original = self.next == 0;
        let step = self.steps.get(self.next);
        let info = if original { format::probe(&bytes).ok() } else { None };
        let opts = DecodeOptions {
            hint: info.and_then(|i| shrink::decode_hint(self.steps, i.width, i.height)),
            max_pixels: self.limits.max_pixels,
            max_alloc: self.limits.decoder_bytes(bytes.len()),
            // Only the original carries EXIF; `auto_orient` may turn its use off.
            orient: !(original && matches!(step, Some(Step::AutoOrient(AutoOrient { enabled: false })))),
            // Known from the chain before decoding, as the shrink hint is: a kept profile is
            // left unapplied in this decode and every later one of the chain.
            keep_profile: icc::chain_keeps(self.steps),
        };
        if let Some(info) = info {
            self.metadata = SourceMetadata::for_chain(&bytes, info.format, self.steps);
        }
        let pixels = raster::load_pixels(bytes, &opts, self.planar_ok())?;
        let nominal = info.map_or_else(|| pixels.dims(), |i| (i.width, i.height));
        // A full decode (or a non-original input) has no reduced prefix.
        let nominal = if opts.hint.is_some() { nominal } else { pixels.dims() };
        self.held = Held::Pixels { pixels, nominal };
        Ok(())
    }

    /// Whether the next step that touches pixels takes YCbCr planes (`auto_orient` only
    /// chooses how the original is decoded, so it looks past it).
    fn planar_ok(&self) -> bool {
        let rest = self.steps.get(self.next..).unwrap_or_default();
        rest.iter().find(|s| !matches!(s, Step::AutoOrient(_))).is_some_and(Step::accepts_planar)
    }

    /// Runs the next step; returns the size of its output. `aux` holds the other images the
    /// step reads (a watermark), by id.
    pub fn run_next(&mut self, aux: &HashMap<String, Vec<u8>>) -> Result<(u32, u32), ImageError> {
        loop {
            if let Advance::Ran(dims) = self.advance(aux)? {
                return Ok(dims);
            }
        }
    }

    /// [`Session::run_next`], except that an `encode` with `max_bytes` returns after each of
    /// its encodes, so that the caller can report the search while it goes on (each encode of
    /// a large image takes a noticeable time); calling again goes on with it.
    pub fn advance(&mut self, aux: &HashMap<String, Vec<u8>>) -> Result<Advance, ImageError> {
        if matches!(self.held, Held::Fitting(_)) {
            return self.fit_next();
        }
        let Some(step) = self.steps.get(self.next) else {
            return Err(ImageError::Params("the chain has no more steps".into()));
        };
        self.decode()?;
        let Held::Pixels { pixels, nominal } = std::mem::replace(&mut self.held, Held::Spent) else {
            return Err(ImageError::Params("no pixels to run the step on".into()));
        };
        // In the shrunk prefix the step runs as rewritten for the smaller pixels.
        let shrunk = nominal != pixels.dims();
        let adapted = shrunk.then(|| shrink::adapt(step, nominal, pixels.dims()));
        let run = adapted.as_ref().unwrap_or(step);
        // Planned from the header, which may not tell the pixels' real size.
        crate::plan::recheck(self.steps, self.next, run, pixels.shape(), self.limits)?;
        let nominal = step.output_dims(nominal.0, nominal.1)?;
        self.region = None;
        self.held = match (run, pixels) {
            (Step::AutoOrient(_), pixels) => Held::Pixels { pixels, nominal },
            (Step::Encode(p), pixels) if p.max_bytes.is_some() => {
                let fitter = Fitter::new(p, p.max_bytes.unwrap_or(u32::MAX));
                let src = encode::prepare(pixels.into_raster(), p)?;
                self.held = Held::Fitting(Box::new(fit::Fitting { src, params: *p, fitter }));
                return self.fit_next();
            }
            (Step::Encode(p), pixels) => {
                let out = encoded(pixels, p, self.encoder_exif(p).as_deref())?;
                let bytes = self.embed(out.bytes, p, (out.width, out.height))?;
                Held::Encoded { bytes, format: out.format, dims: (out.width, out.height), search: out.search }
            }
            (Step::Resize(p), Pixels::Planar(planes)) if p.is_plain_scale() => {
                Held::Pixels { pixels: Pixels::Planar(resize_planar(planes, p)?), nominal }
            }
            (other, pixels) => {
                let ctx = ApplyCtx { aux, max_pixels: self.limits.max_pixels };
                let (raster, region) = other.apply_boxed(pixels.into_raster(), &ctx)?;
                self.region = region;
                // Out of the shrunk prefix the pixels are their own nominal size, which a step
                // sizing its output from the pixels (`trim`) only knows once it has run.
                let nominal = if shrunk { nominal } else { (raster.width, raster.height) };
                Held::Pixels { pixels: Pixels::Raster(raster), nominal }
            }
        };
        self.next += 1;
        Ok(Advance::Ran(self.dims()))
    }

    /// The box of its input that the last step run kept, for steps that choose it from the
    /// pixels (`trim`, `smart_crop`); `None` after any other step.
    pub fn region(&self) -> Option<Region> {
        self.region
    }

    /// Size of what is held (0×0 for an input not decoded yet).
    pub fn dims(&self) -> (u32, u32) {
        match &self.held {
            Held::Pixels { pixels, .. } => pixels.dims(),
            Held::Encoded { dims, .. } => *dims,
            Held::Fitting(fitting) => (fitting.src.width, fitting.src.height),
            Held::Spent => (0, 0),
        }
    }

    /// A copy of what is held, to store as a checkpoint: a later job can start from it with
    /// [`Session::start`] at [`Session::next_step`]. `None` in the shrunk prefix, whose pixels
    /// only make sense with the nominal size this session tracks (and which is cheap to redo),
    /// and while the session carries the original's metadata or profile.
    pub fn checkpoint(&self) -> Option<Vec<u8>> {
        // A job resumed from a checkpoint reads no original, so it could not write the kept
        // metadata or profile: such a chain is redone from the original instead.
        if self.carries_source_data() {
            return None;
        }
        match &self.held {
            Held::Pixels { pixels, nominal } if *nominal == pixels.dims() => Some(pixels.to_bytes()),
            Held::Encoded { bytes, .. } if self.next > 0 => Some(bytes.clone()),
            _ => None,
        }
    }

    /// The chain's result, encoded: the `encode` step's output, or (when the chain did not end
    /// with one) the pixels in the source's own format.
    /// Takes the pixels: the session holds nothing afterwards.
    pub fn finish(&mut self) -> Result<StepOutput, ImageError> {
        if !self.is_done() {
            return Err(ImageError::Params("the chain has steps left to run".into()));
        }
        match std::mem::replace(&mut self.held, Held::Spent) {
            Held::Encoded { bytes, format: Some(format), dims: (width, height), search } => {
                Ok(StepOutput { bytes, content_type: format.mime(), width, height, format: Some(format), search })
            }
            Held::Pixels { pixels, .. } => {
                // Pixels left in the source's colour space still need its profile.
                let icc = if icc::chain_keeps(self.steps) { IccPolicy::Keep } else { IccPolicy::Convert };
                let p = EncodeParams { icc, ..EncodeParams::default_for(self.source_format) };
                let mut out = encoded(pixels, &p, self.encoder_exif(&p).as_deref())?;
                out.bytes = self.embed(std::mem::take(&mut out.bytes), &p, (out.width, out.height))?;
                Ok(out)
            }
            Held::Encoded { .. } | Held::Fitting(_) | Held::Spent => Err(ImageError::Params("the chain produced no image".into())),
        }
    }
}

/// Runs a whole chain in memory on `source` (an upload), exactly as the consumer does for an
/// image. For the bench route, benchmarks and tests.
pub fn run_chain(chain: &crate::Chain, source: Vec<u8>, limits: Limits, aux: &HashMap<String, Vec<u8>>) -> Result<StepOutput, ImageError> {
    let source_format = format::sniff(&source).ok_or_else(|| ImageError::Unsupported("unknown format".into()))?;
    let mut session = Session::start(chain.steps(), source_format, limits, source, 0);
    while !session.is_done() {
        session.run_next(aux)?;
    }
    session.finish()
}

#[path = "session_fit.rs"]
mod fit;
#[path = "session_output.rs"]
mod output;
use output::encoded;

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
