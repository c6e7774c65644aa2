//! Forward DCT and quantisation for the encoder: the Arai–Agui–Nakajima float DCT (5 multiplies
//! per 8 points), whose per-coefficient output scaling is folded into the quantisation divisors,
//! so one multiply per coefficient both finishes the DCT and quantises.

use super::scan::NATURAL;

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

/// Eight rows of a block; the DCT runs on whole rows at once, so each operation below is an
/// 8-wide element-wise operation that LLVM's SLP vectoriser turns into SIMD (two f32x4 on wasm
/// simd128). Written out element by element: closures and `array::from_fn` defeat it.
type Rows = [[f32; 8]; 8];

macro_rules! lanes {
    ($a:ident $op:tt $b:ident) => {
        [$a[0] $op $b[0], $a[1] $op $b[1], $a[2] $op $b[2], $a[3] $op $b[3],
         $a[4] $op $b[4], $a[5] $op $b[5], $a[6] $op $b[6], $a[7] $op $b[7]]
    };
    ($a:ident * $k:expr) => {
        [$a[0] * $k, $a[1] * $k, $a[2] * $k, $a[3] * $k, $a[4] * $k, $a[5] * $k, $a[6] * $k, $a[7] * $k]
    };
}

/// The 8-point AAN DCT down every column of `d` at once (row k of the result is frequency k).
#[inline(always)]
fn dct_columns(d: &Rows) -> Rows {
    let [d0, d1, d2, d3, d4, d5, d6, d7] = d;
    let (t0, t7, t1, t6) = (lanes!(d0 + d7), lanes!(d0 - d7), lanes!(d1 + d6), lanes!(d1 - d6));
    let (t2, t5, t3, t4) = (lanes!(d2 + d5), lanes!(d2 - d5), lanes!(d3 + d4), lanes!(d3 - d4));
    // Even part.
    let (t10, t13, t11, t12) = (lanes!(t0 + t3), lanes!(t0 - t3), lanes!(t1 + t2), lanes!(t1 - t2));
    let s = lanes!(t12 + t13);
    let z1 = lanes!(s * std::f32::consts::FRAC_1_SQRT_2);
    // Odd part.
    let (o10, o11, o12) = (lanes!(t4 + t5), lanes!(t5 + t6), lanes!(t6 + t7));
    let diff = lanes!(o10 - o12);
    let z5 = lanes!(diff * 0.382_683_43);
    let (a, b) = (lanes!(o10 * 0.541_196_1), lanes!(o12 * 1.306_563));
    let (z2, z4) = (lanes!(a + z5), lanes!(b + z5));
    let z3 = lanes!(o11 * std::f32::consts::FRAC_1_SQRT_2);
    let (z11, z13) = (lanes!(t7 + z3), lanes!(t7 - z3));
    [
        lanes!(t10 + t11),
        lanes!(z11 + z4),
        lanes!(t13 + z1),
        lanes!(z13 - z2),
        lanes!(t10 - t11),
        lanes!(z13 + z2),
        lanes!(t13 - z1),
        lanes!(z11 - z4),
    ]
}

#[inline(always)]
fn transpose(d: &Rows) -> Rows {
    let mut t = [[0f32; 8]; 8];
    for (r, row) in d.iter().enumerate() {
        for (c, &v) in row.iter().enumerate() {
            t[c][r] = v;
        }
    }
    t
}

/// DCT of a block of level-shifted samples (`block[y][x]`), quantised, in zigzag order.
#[inline(never)]
pub(super) fn forward(block: &Rows, divisors: &Divisors, out: &mut [i16; 64]) {
    // Columns first (vertical frequencies v in rows), then the transposed rows: the result is
    // indexed [u][v], i.e. transposed, and so are the divisors.
    let vertical = dct_columns(block);
    let both = dct_columns(&transpose(&vertical));
    let mut quantised = [[0i32; 8]; 8];
    for ((q, f), d) in quantised.iter_mut().zip(&both).zip(&divisors.0) {
        for c in 0..8 {
            // Round half to even by the float trick (|x| < 2^22): `f32::round` is a libm call
            // on wasm32. A quantised coefficient of 8-bit samples is within ±2048.
            q[c] = ((f[c] * d[c] + ROUNDER) - ROUNDER) as i32;
        }
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
