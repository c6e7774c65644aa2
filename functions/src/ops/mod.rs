//! The image operations, one module per step; each is a pure function `Raster -> Raster` (or,
//! for `encode`, `Raster -> bytes`) with its parameter type and parser beside it.

pub mod encode;
pub mod grayscale;
pub mod resize;
