//! What the placement steps share: [`Gravity`] (where a box sits in another), a parameter colour
//! in a raster's layout, and the buffer check that lets their index arithmetic trust a raster.

use crate::error::ImageError;
use crate::raster::{byte_len, Layout, Raster};
use crate::spec::{Checked, Typed};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Where a box sits inside another: a compass point or the centre.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gravity {
    NorthWest,
    North,
    NorthEast,
    West,
    #[default]
    Center,
    East,
    SouthWest,
    South,
    SouthEast,
}

/// The API names of [`Gravity`], in the order of its variants.
pub const GRAVITIES: [&str; 9] = ["north_west", "north", "north_east", "west", "center", "east", "south_west", "south", "south_east"];

/// Gravity parameters are choices of [`GRAVITIES`] read as a [`Gravity`].
impl Typed for Gravity {
    fn to_json(self) -> Value {
        Self::ALL.iter().position(|g| *g == self).and_then(|i| GRAVITIES.get(i)).map_or(Value::Null, |n| json!(n))
    }
    fn from_checked(c: Checked<'_>) -> Option<Self> {
        let Checked::Choice(s) = c else { return None };
        GRAVITIES.iter().position(|g| *g == s).and_then(|i| Self::ALL.get(i).copied())
    }
}

impl Gravity {
    const ALL: [Gravity; 9] = [
        Gravity::NorthWest,
        Gravity::North,
        Gravity::NorthEast,
        Gravity::West,
        Gravity::Center,
        Gravity::East,
        Gravity::SouthWest,
        Gravity::South,
        Gravity::SouthEast,
    ];

    pub fn is_center(&self) -> bool {
        *self == Gravity::Center
    }

    /// Where the box sits on each axis: 0 at the start edge, 0.5 centred, 1 at the end edge.
    pub fn fraction(self) -> (f64, f64) {
        let (hx, hy) = self.anchors();
        (f64::from(hx + 1) / 2.0, f64::from(hy + 1) / 2.0)
    }

    /// -1: anchored to the start edge, 0: centred, 1: anchored to the end edge (x, y).
    fn anchors(self) -> (i32, i32) {
        match self {
            Gravity::NorthWest => (-1, -1),
            Gravity::North => (0, -1),
            Gravity::NorthEast => (1, -1),
            Gravity::West => (-1, 0),
            Gravity::Center => (0, 0),
            Gravity::East => (1, 0),
            Gravity::SouthWest => (-1, 1),
            Gravity::South => (0, 1),
            Gravity::SouthEast => (1, 1),
        }
    }

    /// Top-left corner of an `inner` box placed in `outer` at this gravity, moved `offset` pixels
    /// inwards from the edges it touches (on a centred axis, positive moves right/down). May be
    /// negative or past the edge when the box does not fit; callers clip or refuse.
    pub fn place(self, outer: (u32, u32), inner: (u32, u32), offset: (i64, i64)) -> (i64, i64) {
        let (hx, hy) = self.anchors();
        // u32 values and offsets bounded by the parsers: no i64 overflow is possible here.
        let axis = |anchor: i32, outer: u32, inner: u32, offset: i64| {
            let free = i64::from(outer) - i64::from(inner);
            match anchor {
                -1 => offset,
                0 => free.div_euclid(2) + offset,
                _ => free - offset,
            }
        };
        (axis(hx, outer.0, inner.0, offset.0), axis(hy, outer.1, inner.1, offset.1))
    }
}

/// A `#rrggbbaa` colour as one pixel of `layout` (gray layouts take its Rec. 601 luma).
pub fn colour_in(layout: Layout, c: [u8; 4]) -> Vec<u8> {
    let l = super::grayscale::luma(c[0], c[1], c[2]);
    match layout {
        Layout::Luma8 => vec![l],
        Layout::LumaA8 => vec![l, c[3]],
        Layout::Rgb8 => vec![c[0], c[1], c[2]],
        Layout::Rgba8 => c.to_vec(),
    }
}

/// The layout that holds `layout`'s pixels and, when `background` is see-through, an alpha channel.
pub fn layout_for_background(layout: Layout, background: [u8; 4]) -> Layout {
    match layout {
        Layout::Luma8 if background[3] < 255 => Layout::LumaA8,
        Layout::Rgb8 if background[3] < 255 => Layout::Rgba8,
        other => other,
    }
}

/// Refuses a raster whose buffer does not match its size (its fields are public), so that the
/// index arithmetic below can rely on it.
pub fn check(r: &Raster) -> Result<(), ImageError> {
    match byte_len(r.width, r.height, r.layout) {
        Some(n) if n == r.pixels.len() && r.width > 0 && r.height > 0 => Ok(()),
        _ => Err(ImageError::Invalid(format!("{}x{} raster has {} bytes", r.width, r.height, r.pixels.len()))),
    }
}
