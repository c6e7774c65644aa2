//! The scaled inverse DCT: the K-point transform (K = 1, 2 or 4) of a block's top-left K×K
//! coefficients, written as K×K pixels.
//!
//! The coefficients hold c(u)·c(v)·F(u,v), so each 1-D pass is a plain sum of cosines; adding
//! the level shift (and ½ for rounding) to the DC term adds it to every pixel. Every variant
//! does the same IEEE operations in the same order as the generic K-point sum, so the output
//! does not depend on which one runs.

use crate::simd::{transpose, F32x4};

/// Dequantised coefficients of one block: the kept K×K row-major at `v·K + u` (K ≤ 4), and
/// from [`DUMP`] on room where the coefficients that are not kept are written and never read
/// (a store there is cheaper than a branch around it).
pub(super) type Coefs = [f32; 32];

/// The slot for a coefficient that is not kept.
pub(super) const DUMP: u8 = 16;

const C1: f32 = 0.923_879_5; // cos(π/8)
const C2: f32 = std::f32::consts::FRAC_1_SQRT_2; // cos(2π/8)
const C3: f32 = 0.382_683_43; // cos(3π/8)

/// Writes the K×K pixels of one block at the start of `out` (rows `stride` apart); `any_ac`
/// false means every kept AC coefficient is zero (the block is flat).
#[inline(always)]
pub(super) fn idct<const K: usize>(coef: &Coefs, any_ac: bool, out: &mut [u8], stride: usize) {
    let dc = coef[0] + 128.5;
    if !any_ac {
        // `as u8` saturates: it is the clamp to 0–255.
        let v = dc as u8;
        for y in 0..K {
            out[y * stride..y * stride + K].fill(v);
        }
        return;
    }
    match K {
        4 => idct4(coef, dc, out, stride),
        2 => idct2(coef, dc, out, stride),
        _ => out[0] = dc as u8,
    }
}

/// K = 2 (1/4 scale): rows, then columns, as [`idct_1d`] would for K = 2.
#[inline(always)]
fn idct2(coef: &Coefs, dc: f32, out: &mut [u8], stride: usize) {
    // Row v: t[v][x] for x = 0, 1.
    let (t00, t01) = (dc + C2 * coef[1], dc - C2 * coef[1]);
    let (t10, t11) = (coef[2] + C2 * coef[3], coef[2] - C2 * coef[3]);
    let (top, bottom) = out.split_at_mut(stride);
    top[..2].copy_from_slice(&[(t00 + C2 * t10) as u8, (t01 + C2 * t11) as u8]);
    bottom[..2].copy_from_slice(&[(t00 - C2 * t10) as u8, (t01 - C2 * t11) as u8]);
}

/// K = 4 (1/2 scale, the most common) four lanes at a time: transpose so that each vector
/// holds one frequency across rows, run the 1-D transform on whole vectors, twice.
#[inline(always)]
fn idct4(coef: &Coefs, dc: f32, out: &mut [u8], stride: usize) {
    let row = |v: usize| F32x4::new([if v == 0 { dc } else { coef[4 * v] }, coef[4 * v + 1], coef[4 * v + 2], coef[4 * v + 3]]);
    let rows = [row(0), row(1), row(2), row(3)];
    let across = idct4_vectors(transpose(rows)); // [x] lanes v
    let pixels = idct4_vectors(transpose(across)); // [y] lanes x
    for (y, line) in pixels.iter().enumerate() {
        // `as u8` after the i32 conversion would wrap: clamp like the scalar path's saturating cast.
        let px = line.to_i32().map(|v| v.clamp(0, 255) as u8);
        out[y * stride..y * stride + 4].copy_from_slice(&px);
    }
}

/// The 4-point sum `Σ g[u]·cos((2x+1)uπ/8)` on vectors: `g[u]` holds frequency u for four
/// independent lines; even/odd split.
#[inline(always)]
fn idct4_vectors(g: [F32x4; 4]) -> [F32x4; 4] {
    let k = F32x4::splat;
    let (c1, c2, c3) = (k(C1), k(C2), k(C3));
    let (e0, e1) = (g[0].add(c2.mul(g[2])), g[0].sub(c2.mul(g[2])));
    let (o0, o1) = (c1.mul(g[1]).add(c3.mul(g[3])), c3.mul(g[1]).sub(c1.mul(g[3])));
    [e0.add(o0), e1.add(o1), e1.sub(o1), e0.sub(o0)]
}
