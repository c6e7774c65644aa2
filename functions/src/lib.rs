//! Stellar Studio's imaging core: every chain step as a pure function over bytes and pixels.
//!
//! Nothing here knows about Workers, R2 or queues; the Worker crate calls into it. That keeps the
//! whole engine unit-testable and benchmarkable natively.
//!
//! The flow of one step: [`raster::load`] turns stored bytes (an upload or an intermediate) into a
//! [`raster::Raster`], [`exec::run_step`] applies one [`chain::Step`], and the result is stored
//! either as an intermediate raster or, for the last step, encoded.

pub mod chain;
pub mod decode;
pub mod error;
pub mod exec;
pub mod format;
mod jpeg;
pub mod ops;
pub mod params;
pub mod plan;
pub mod planar;
pub mod presets;
pub mod raster;
pub mod registry;
pub mod shrink;
mod simd;

pub use chain::{Chain, ChainError};
pub use registry::Step;
pub use error::ImageError;
pub use format::{Format, ImageInfo};
pub use raster::Raster;
