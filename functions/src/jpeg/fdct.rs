//! Forward DCT and quantisation for the encoder: the Arai–Agui–Nakajima float DCT (5 multiplies
//! per 8 points), whose per-coefficient output scaling is folded into the quantisation divisors,
//! so one multiply per coefficient both finishes the DCT and quantises.

use super::scan::NATURAL;
use crate::simd::{transpose, F32x4};

/// √2·cos(kπ/16) for k ≥ 1, and 1 for k = 0: the AAN output scale of frequency k.
const AAN_SCALE: [f32; 8] = [1.0, 1.387_039_8, 1.306_563, 1.175_875_6, 1.0, 0.785_694_96, 0.541_196_1, 0.275_899_38];

/// 1.5·2^23: adding and subtracting it rounds an f32 to an integer.
const ROUNDER: f32 = 12_582_912.0;

/// Multipliers that turn an AAN output into the quantised coefficient, transposed: `[u][v]`
/// for horizontal frequency u and vertical frequency v, as [`forward`] computes them.
pub(super) struct Divisors([[f32; 8]; 8]);

impl Divisors {
    /// From a quantisation table in zigzag order.
    pub(super) fn new(quant_zigzag: &[u16; 64]) -> Divisors {
        let mut d = [[0f32; 8]; 8];
        for (z, &q) in quant_zigzag.iter().enumerate() {
            let (v, u) = (NATURAL[z] / 8, NATURAL[z] % 8);
            d[u][v] = 1.0 / (f32::from(q) * AAN_SCALE[u] * AAN_SCALE[v] * 8.0);
        }
        Divisors(d)
    }
}

/// A block as rows of 8 lanes, each row split into its left and right four: `lo[r]`, `hi[r]`.
type Rows = [[f32; 8]; 8];

/// The 8-point AAN DCT down every column at once: `d[k]` is row k (four columns' worth), and
/// row k of the result is vertical frequency k.
#[inline(always)]
fn dct8(d: [F32x4; 8]) -> [F32x4; 8] {
    let k = F32x4::splat;
    let (t0, t7, t1, t6) = (d[0].add(d[7]), d[0].sub(d[7]), d[1].add(d[6]), d[1].sub(d[6]));
    let (t2, t5, t3, t4) = (d[2].add(d[5]), d[2].sub(d[5]), d[3].add(d[4]), d[3].sub(d[4]));
    // Even part.
    let (t10, t13, t11, t12) = (t0.add(t3), t0.sub(t3), t1.add(t2), t1.sub(t2));
    let z1 = t12.add(t13).mul(k(std::f32::consts::FRAC_1_SQRT_2));
    // Odd part.
    let (o10, o11, o12) = (t4.add(t5), t5.add(t6), t6.add(t7));
    let z5 = o10.sub(o12).mul(k(0.382_683_43));
    let z2 = o10.mul(k(0.541_196_1)).add(z5);
    let z4 = o12.mul(k(1.306_563)).add(z5);
    let z3 = o11.mul(k(std::f32::consts::FRAC_1_SQRT_2));
    let (z11, z13) = (t7.add(z3), t7.sub(z3));
    [t10.add(t11), z11.add(z4), t13.add(z1), z13.sub(z2), t10.sub(t11), z13.add(z2), t13.sub(z1), z11.sub(z4)]
}

/// Transposes the 8×8 matrix held as left halves `lo` and right halves `hi` of its rows.
#[inline(always)]
fn transpose8(lo: [F32x4; 8], hi: [F32x4; 8]) -> ([F32x4; 8], [F32x4; 8]) {
    let quarter = |v: &[F32x4; 8], top: bool| transpose(if top { [v[0], v[1], v[2], v[3]] } else { [v[4], v[5], v[6], v[7]] });
    let (a, b, c, d) = (quarter(&lo, true), quarter(&hi, true), quarter(&lo, false), quarter(&hi, false));
    // [[A B] [C D]]ᵀ = [[Aᵀ Cᵀ] [Bᵀ Dᵀ]]
    ([a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]], [c[0], c[1], c[2], c[3], d[0], d[1], d[2], d[3]])
}

/// DCT of a block of level-shifted samples (`block[y][x]`), quantised, in zigzag order.
pub(super) fn forward(block: &Rows, divisors: &Divisors, out: &mut [i16; 64]) {
    let half = |r: usize, from: usize| F32x4::new([block[r][from], block[r][from + 1], block[r][from + 2], block[r][from + 3]]);
    let (lo, hi): ([F32x4; 8], [F32x4; 8]) = (std::array::from_fn(|r| half(r, 0)), std::array::from_fn(|r| half(r, 4)));
    // Columns first (vertical frequencies v in rows), then the transposed rows: the result is
    // indexed [u][v], i.e. transposed, and so are the divisors.
    let (lo, hi) = transpose8(dct8(lo), dct8(hi));
    let (lo, hi) = (dct8(lo), dct8(hi));
    let rounder = F32x4::splat(ROUNDER);
    let mut quantised = [[0i32; 8]; 8];
    for (r, q) in quantised.iter_mut().enumerate() {
        let d = &divisors.0[r];
        // Round half to even by the float trick (|x| < 2^22): `f32::round` is a libm call
        // on wasm32. A quantised coefficient of 8-bit samples is within ±2048.
        let left = lo[r].mul(F32x4::new([d[0], d[1], d[2], d[3]])).add(rounder).sub(rounder);
        let right = hi[r].mul(F32x4::new([d[4], d[5], d[6], d[7]])).add(rounder).sub(rounder);
        q[..4].copy_from_slice(&left.to_i32());
        q[4..].copy_from_slice(&right.to_i32());
    }
    for (o, &t) in out.iter_mut().zip(&ZIGZAG_TRANSPOSED) {
        *o = quantised[t / 8][t % 8] as i16;
    }
}

/// `ZIGZAG_TRANSPOSED[z]`: where the z-th zigzag coefficient (row v, column u) sits in a
/// transposed block (row u, column v).
const ZIGZAG_TRANSPOSED: [usize; 64] = {
    let mut t = [0; 64];
    let mut z = 0;
    while z < 64 {
        t[z] = (NATURAL[z] % 8) * 8 + NATURAL[z] / 8;
        z += 1;
    }
    t
};
