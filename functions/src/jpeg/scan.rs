//! The scan: Huffman-decodes every block of the interleaved baseline scan, keeps only the
//! top-left K×K coefficients, and writes each block's K×K pixels through the scaled IDCT.
//!
//! Scaling in the DCT domain is exact low-pass filtering: the K-point inverse DCT of the K×K
//! lowest frequencies, with the 8-point normalisation, is the image sampled at K/8 of its size.

use super::bits::{extend, BitReader, Huffman};
use super::Header;
use crate::simd::{transpose, F32x4};

/// One decoded component at the scaled size, padded to whole blocks.
pub(super) struct Plane {
    /// Samples per row (the stride; rows may extend past the image into block padding).
    pub width: usize,
    pub data: Vec<u8>,
    /// How many output pixels one sample covers, across and down (2 for subsampled chroma).
    pub factor: (usize, usize),
}

/// The JPEG zigzag order: `NATURAL[z]` is the row-major index of the z-th coefficient.
pub(super) const NATURAL: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56,
    57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Slot of a kept coefficient in the K×K block, by zigzag index.
const DROP: u8 = u8::MAX;

/// What a component's blocks need while decoding.
struct BlockContext<'h> {
    dc: &'h Huffman,
    ac: &'h Huffman,
    /// `slot[z]`: where coefficient z goes in the K×K block, or `DROP`.
    slot: [u8; 64],
    /// Dequantisation factor by zigzag index.
    quant: [f32; 64],
}

/// Decodes the scan at `eighths`/8 scale; `None` if the data is corrupt or truncated.
pub(super) fn decode(header: &Header, data: &[u8], eighths: usize) -> Option<Vec<Plane>> {
    match eighths {
        1 => decode_k::<1>(header, data),
        2 => decode_k::<2>(header, data),
        4 => decode_k::<4>(header, data),
        _ => None,
    }
}

fn decode_k<const K: usize>(header: &Header, data: &[u8]) -> Option<Vec<Plane>> {
    let comps = &header.components;
    let (hmax, vmax) = (comps.iter().map(|c| c.h).max()?, comps.iter().map(|c| c.v).max()?);
    let (mcus_x, mcus_y) = (header.width.div_ceil(8 * hmax), header.height.div_ceil(8 * vmax));
    let mut planes: Vec<Plane> = comps
        .iter()
        .map(|c| {
            let (width, height) = (mcus_x * c.h * K, mcus_y * c.v * K);
            Plane { width, data: vec![0; width * height], factor: (hmax / c.h, vmax / c.v) }
        })
        .collect();
    let contexts: Vec<BlockContext> = comps.iter().map(|c| context::<K>(header, c)).collect::<Option<_>>()?;
    let mut bits = BitReader::new(data);
    let mut predictors = [0i32; 3];
    let mut coef = [[0f32; K]; K];
    let interval = header.restart_interval;
    for mcu in 0..mcus_x * mcus_y {
        if interval > 0 && mcu > 0 && mcu % interval == 0 {
            if !bits.restart(((mcu / interval - 1) % 8) as u8) {
                return None;
            }
            predictors = [0; 3];
        }
        let (mx, my) = (mcu % mcus_x, mcu / mcus_x);
        for (ci, c) in comps.iter().enumerate() {
            let plane = &mut planes[ci];
            for by in 0..c.v {
                for bx in 0..c.h {
                    let any_ac = decode_block::<K>(&mut bits, &contexts[ci], &mut predictors[ci], &mut coef)?;
                    let (x, y) = ((mx * c.h + bx) * K, (my * c.v + by) * K);
                    let offset = y * plane.width + x;
                    idct::<K>(&mut coef, any_ac, &mut plane.data[offset..], plane.width);
                }
            }
        }
    }
    (!bits.overran()).then_some(planes)
}

fn context<'h, const K: usize>(header: &'h Header, c: &super::Component) -> Option<BlockContext<'h>> {
    let table = header.quant.get(c.quant)?.as_ref()?;
    let mut slot = [DROP; 64];
    let mut quant = [0f32; 64];
    // The IDCT's normalisation c(u)·c(v) (c(0) = 1/√8, else 1/2) is folded in here.
    let norm = |k: usize| if k == 0 { 1.0 / 8f32.sqrt() } else { 0.5 };
    for z in 0..64 {
        let (row, col) = (NATURAL[z] / 8, NATURAL[z] % 8);
        if row < K && col < K {
            slot[z] = (row * K + col) as u8;
        }
        quant[z] = f32::from(table[z]) * norm(row) * norm(col);
    }
    Some(BlockContext { dc: header.dc[c.dc].as_ref()?, ac: header.ac[c.ac].as_ref()?, slot, quant })
}

/// Decodes one block's coefficients into `coef` (dequantised, K×K kept); answers whether any
/// kept AC coefficient is non-zero (if not, the block is flat and needs no IDCT).
#[inline(always)]
fn decode_block<const K: usize>(bits: &mut BitReader, ctx: &BlockContext, predictor: &mut i32, coef: &mut [[f32; K]; K]) -> Option<bool> {
    *coef = [[0.0; K]; K];
    bits.refill();
    let size = u32::from(ctx.dc.decode(bits)?);
    if size > 11 {
        return None;
    }
    // Corrupt data can push the predictor anywhere; wrapping keeps that a wrong pixel, not a panic.
    *predictor = predictor.wrapping_add(extend(bits.take(size), size));
    coef[0][0] = *predictor as f32 * ctx.quant[0];
    let mut any_ac = false;
    let mut z = 1;
    // Up to the last kept coefficient: decode and store.
    while z <= last_kept(K) {
        let (run, value) = next_ac(bits, ctx.ac)?;
        if run == 0 && value == 0 {
            return Some(any_ac); // end of block
        }
        z += run;
        if z > 63 {
            return Some(any_ac); // a run past the block: corrupt, but libjpeg reads on too
        }
        let slot = ctx.slot[z];
        if slot != DROP {
            let slot = usize::from(slot);
            coef[slot / K][slot % K] = value as f32 * ctx.quant[z];
            any_ac = true;
        }
        z += 1;
    }
    // The rest only has to be read past: no lookups, no stores.
    while z < 64 {
        let (run, value) = next_ac(bits, ctx.ac)?;
        if run == 0 && value == 0 {
            break;
        }
        z += run + 1;
    }
    Some(any_ac)
}

/// The highest zigzag index inside the top-left K×K coefficients.
const fn last_kept(k: usize) -> usize {
    match k {
        1 => 0,
        2 => 4,
        4 => 24,
        _ => 63,
    }
}

/// The next AC symbol as (zero run, value): (0, 0) is the end of block, (15, 0) sixteen zeros
/// (the caller then steps over one more "coefficient" of value 0, which is harmless).
#[inline(always)]
fn next_ac(bits: &mut BitReader, ac: &Huffman) -> Option<(usize, i32)> {
    bits.refill();
    let fast = ac.fast_ac(bits);
    if fast != 0 {
        bits.consume((fast & 15) as u32);
        return Some((((fast >> 4) & 15) as usize, i32::from(fast >> 8)));
    }
    let rs = ac.decode(bits)?;
    let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
    if size == 0 {
        // Only EOB (0x00) and ZRL (0xF0) have no value; libjpeg takes any other as EOB too.
        return Some(if run == 15 { (15, 0) } else { (0, 0) });
    }
    Some((run, extend(bits.take(size), size)))
}

/// Writes the K×K pixels of one block at the start of `out` (rows `stride` apart).
///
/// `coef` holds c(u)·c(v)·F(u,v), so each 1-D pass is a plain sum of cosines; adding the level
/// shift (and ½ for rounding) to the DC term adds it to every pixel.
#[inline(always)]
fn idct<const K: usize>(coef: &mut [[f32; K]; K], any_ac: bool, out: &mut [u8], stride: usize) {
    coef[0][0] += 128.5;
    if !any_ac {
        // `as u8` saturates: it is the clamp to 0–255.
        let v = coef[0][0] as u8;
        for y in 0..K {
            out[y * stride..y * stride + K].fill(v);
        }
        return;
    }
    if K == 4 {
        return idct4_simd(coef, out, stride);
    }
    let mut tmp = [[0f32; K]; K];
    for (v, row) in coef.iter().enumerate() {
        let line = idct_1d::<K>(row);
        for x in 0..K {
            tmp[x][v] = line[x];
        }
    }
    for (x, column) in tmp.iter().enumerate() {
        let line = idct_1d::<K>(column);
        for y in 0..K {
            out[y * stride + x] = line[y] as u8;
        }
    }
}

/// The 4×4 case (1/2 scale, the most common) four lanes at a time: transpose so that each
/// vector holds one frequency across rows, run the 1-D transform on whole vectors, twice.
#[inline(always)]
fn idct4_simd<const K: usize>(coef: &[[f32; K]; K], out: &mut [u8], stride: usize) {
    let rows: [F32x4; 4] = std::array::from_fn(|v| F32x4::new(std::array::from_fn(|u| coef[v][u % K])));
    let across = idct4_vectors(transpose(rows)); // [x] lanes v
    let pixels = idct4_vectors(transpose(across)); // [y] lanes x
    for (y, line) in pixels.iter().enumerate() {
        // `as u8` after the i32 conversion would wrap: clamp like the scalar path's saturating cast.
        let px = line.to_i32().map(|v| v.clamp(0, 255) as u8);
        out[y * stride..y * stride + 4].copy_from_slice(&px);
    }
}

/// [`idct_1d`] for K = 4 on vectors: `g[u]` holds frequency u for four independent lines.
#[inline(always)]
fn idct4_vectors(g: [F32x4; 4]) -> [F32x4; 4] {
    let k = F32x4::splat;
    let (c1, c2, c3) = (k(0.923_879_5), k(std::f32::consts::FRAC_1_SQRT_2), k(0.382_683_43));
    let (e0, e1) = (g[0].add(c2.mul(g[2])), g[0].sub(c2.mul(g[2])));
    let (o0, o1) = (c1.mul(g[1]).add(c3.mul(g[3])), c3.mul(g[1]).sub(c1.mul(g[3])));
    [e0.add(o0), e1.add(o1), e1.sub(o1), e0.sub(o0)]
}

/// The K-point sum `Σ g[u]·cos((2x+1)uπ/2K)` for x in 0..K (K = 1, 2 or 4), even/odd split.
#[inline(always)]
fn idct_1d<const K: usize>(g: &[f32; K]) -> [f32; K] {
    const C1: f32 = 0.923_879_5; // cos(π/8)
    const C2: f32 = std::f32::consts::FRAC_1_SQRT_2; // cos(2π/8)
    const C3: f32 = 0.382_683_43; // cos(3π/8)
    let mut out = [0f32; K];
    match K {
        4 => {
            let (e0, e1) = (g[0] + C2 * g[2], g[0] - C2 * g[2]);
            let (o0, o1) = (C1 * g[1] + C3 * g[3], C3 * g[1] - C1 * g[3]);
            out[0] = e0 + o0;
            out[1] = e1 + o1;
            out[2] = e1 - o1;
            out[3] = e0 - o0;
        }
        2 => {
            out[0] = g[0] + C2 * g[1];
            out[1] = g[0] - C2 * g[1];
        }
        _ => out[0] = g[0],
    }
    out
}
