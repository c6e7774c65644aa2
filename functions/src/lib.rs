//! Stellar Studio's imaging core: every chain step as a pure function over bytes and pixels.
//!
//! Nothing here knows about Workers, R2 or queues; the Worker crate calls into it. That keeps the
//! whole engine unit-testable and benchmarkable natively.
//!
//! The flow of a chain: a [`session::Session`] decodes the upload (at the reduced size
//! [`shrink`] picks from the whole chain), applies the [`chain::Step`]s one by one in memory,
//! and encodes the result; a checkpoint stores the pixels between steps as an intermediate
//! raster ([`raster`]).

// No `unsafe` (the SIMD kernels use wasm's safe simd128 intrinsics), and no `unwrap`/`expect`
// in shipped code: in the Worker a panic aborts the module, so a fallible call must become an
// `ImageError`. Tests may unwrap.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod chain;
pub mod decode;
pub mod docs;
pub mod error;
pub mod format;
mod frames;
pub mod icc;
mod jpeg;
pub mod metadata;
pub mod ops;
pub mod params;
pub mod placeholder;
pub mod plan;
pub mod planar;
pub mod presets;
pub mod raster;
pub mod registry;
pub mod session;
pub mod shrink;
mod simd;
pub mod spec;
pub mod stored;
mod tiff_ifd;

pub use chain::{Chain, ChainError};
pub use error::ImageError;
pub use format::{Format, ImageInfo};
pub use raster::Raster;
pub use registry::Step;
