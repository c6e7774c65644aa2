//! The one error type of the imaging core, each variant tied to a stable API error code.

use thiserror::Error;

/// What can go wrong while reading or transforming an image.
///
/// The Worker maps [`ImageError::code`] straight onto the contract's error codes, so these codes
/// must never change meaning.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImageError {
    /// The bytes claim to be an image we know but cannot be read (corrupt, truncated, lying).
    #[error("invalid image: {0}")]
    Invalid(String),
    /// The bytes are not an image format we read.
    #[error("unsupported media type: {0}")]
    Unsupported(String),
    /// The image (or what a step would make of it) does not fit the limits.
    #[error("{0}")]
    TooLarge(String),
    /// A step's parameters cannot be applied to this image (e.g. a crop outside it).
    #[error("invalid parameters: {0}")]
    Params(String),
}

impl ImageError {
    /// The stable, contract-level code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            ImageError::Invalid(_) => "invalid_image",
            ImageError::Unsupported(_) => "unsupported_media_type",
            ImageError::TooLarge(_) => "image_too_large",
            ImageError::Params(_) => "invalid_chain",
        }
    }
}
