//! The distortion metrics of libwebp's `dsp/enc.c`: sums of squared differences (`SSE*_C`)
//! and the weighted Hadamard distortion (`Disto4x4_C`, `Disto16x16_C`, via `TTransform`).

use super::BPS;
use core::arch::wasm32::*;
use std::ffi::c_int;

/// Eight bytes at `p` widened to `i16` lanes.
#[inline(always)]
unsafe fn load8(p: *const u8) -> v128 {
    u16x8_extend_low_u8x16(u64x2(p.cast::<u64>().read_unaligned(), 0))
}

/// Four bytes at `p` then four at `q`, widened to `i16` lanes.
#[inline(always)]
unsafe fn load4x2(p: *const u8, q: *const u8) -> v128 {
    let (a, b) = (p.cast::<u32>().read_unaligned(), q.cast::<u32>().read_unaligned());
    u16x8_extend_low_u8x16(u32x4(a, b, 0, 0))
}

/// The sum of the four lanes.
#[inline(always)]
fn lanes_sum(v: v128) -> i32 {
    let v = i32x4_add(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
    i32x4_extract_lane::<0>(i32x4_add(v, i32x4_shuffle::<1, 0, 3, 2>(v, v)))
}

/// Adds the squares of `a − b` (eight `i16` lanes each) to `acc`.
#[inline(always)]
fn add_squares(acc: v128, a: v128, b: v128) -> v128 {
    let diff = i16x8_sub(a, b);
    i32x4_add(acc, i32x4_dot_i16x8(diff, diff))
}

/// `GetSSE` over `rows` rows of 16 pixels.
#[inline(always)]
unsafe fn sse16(a: *const u8, b: *const u8, rows: usize) -> c_int {
    let mut acc = i32x4_splat(0);
    for y in 0..rows {
        let (va, vb) = (v128_load(a.add(y * BPS).cast()), v128_load(b.add(y * BPS).cast()));
        acc = add_squares(acc, u16x8_extend_low_u8x16(va), u16x8_extend_low_u8x16(vb));
        acc = add_squares(acc, u16x8_extend_high_u8x16(va), u16x8_extend_high_u8x16(vb));
    }
    lanes_sum(acc)
}

pub(super) unsafe extern "C" fn sse16x16(a: *const u8, b: *const u8) -> c_int {
    sse16(a, b, 16)
}

pub(super) unsafe extern "C" fn sse16x8(a: *const u8, b: *const u8) -> c_int {
    sse16(a, b, 8)
}

pub(super) unsafe extern "C" fn sse8x8(a: *const u8, b: *const u8) -> c_int {
    let mut acc = i32x4_splat(0);
    for y in 0..8 {
        acc = add_squares(acc, load8(a.add(y * BPS)), load8(b.add(y * BPS)));
    }
    lanes_sum(acc)
}

pub(super) unsafe extern "C" fn sse4x4(a: *const u8, b: *const u8) -> c_int {
    let mut acc = i32x4_splat(0);
    for y in (0..4).step_by(2) {
        let (a0, a1) = (a.add(y * BPS), a.add((y + 1) * BPS));
        let (b0, b1) = (b.add(y * BPS), b.add((y + 1) * BPS));
        acc = add_squares(acc, load4x2(a0, a1), load4x2(b0, b1));
    }
    lanes_sum(acc)
}

/// The weights, transposed (vector `j` lane `k` is `w[4k + j]`) and repeated in both halves,
/// the first half negated: one dot product then gives `TTransform(b) − TTransform(a)`.
#[inline(always)]
unsafe fn weights(w: *const u16) -> [v128; 4] {
    let (lo, hi) = (v128_load(w.cast()), v128_load(w.add(8).cast()));
    let sign = i16x8(-1, -1, -1, -1, 1, 1, 1, 1);
    [
        i16x8_mul(i16x8_shuffle::<0, 4, 8, 12, 0, 4, 8, 12>(lo, hi), sign),
        i16x8_mul(i16x8_shuffle::<1, 5, 9, 13, 1, 5, 9, 13>(lo, hi), sign),
        i16x8_mul(i16x8_shuffle::<2, 6, 10, 14, 2, 6, 10, 14>(lo, hi), sign),
        i16x8_mul(i16x8_shuffle::<3, 7, 11, 15, 3, 7, 11, 15>(lo, hi), sign),
    ]
}

/// The Hadamard butterfly of `TTransform`, over four vectors.
#[inline(always)]
fn hadamard(x0: v128, x1: v128, x2: v128, x3: v128) -> [v128; 4] {
    let (a0, a1) = (i16x8_add(x0, x2), i16x8_add(x1, x3));
    let (a2, a3) = (i16x8_sub(x1, x3), i16x8_sub(x0, x2));
    [i16x8_add(a0, a1), i16x8_add(a3, a2), i16x8_sub(a3, a2), i16x8_sub(a0, a1)]
}

/// `Disto4x4_C` with the weights prepared by [`weights`]. `a`'s block rides in the low four
/// lanes, `b`'s in the high four; every intermediate fits `i16` (at most 16 × 255).
#[inline(always)]
unsafe fn disto(a: *const u8, b: *const u8, w: &[v128; 4]) -> c_int {
    let row = |y: usize| load4x2(a.add(y * BPS), b.add(y * BPS));
    // Down the columns first (lanes are columns; C goes along rows first: the transform is
    // exact integer arithmetic, so the order of the passes does not change it).
    let [y0, y1, y2, y3] = hadamard(row(0), row(1), row(2), row(3));
    // Transpose each half: vector `c` lane `k` becomes `y_k` lane `c`.
    let p0 = i16x8_shuffle::<0, 8, 1, 9, 4, 12, 5, 13>(y0, y1);
    let p1 = i16x8_shuffle::<2, 10, 3, 11, 6, 14, 7, 15>(y0, y1);
    let p2 = i16x8_shuffle::<0, 8, 1, 9, 4, 12, 5, 13>(y2, y3);
    let p3 = i16x8_shuffle::<2, 10, 3, 11, 6, 14, 7, 15>(y2, y3);
    let z0 = i16x8_shuffle::<0, 1, 8, 9, 4, 5, 12, 13>(p0, p2);
    let z1 = i16x8_shuffle::<2, 3, 10, 11, 6, 7, 14, 15>(p0, p2);
    let z2 = i16x8_shuffle::<0, 1, 8, 9, 4, 5, 12, 13>(p1, p3);
    let z3 = i16x8_shuffle::<2, 3, 10, 11, 6, 7, 14, 15>(p1, p3);
    // Along the rows: vector `j` lane `k` is C's coefficient (row k, column j).
    let f = hadamard(z0, z1, z2, z3);
    let mut acc = i32x4_splat(0);
    for (coeffs, weight) in f.into_iter().zip(w) {
        acc = i32x4_add(acc, i32x4_dot_i16x8(i16x8_abs(coeffs), *weight));
    }
    lanes_sum(acc).abs() >> 5
}

pub(super) unsafe extern "C" fn disto4x4(a: *const u8, b: *const u8, w: *const u16) -> c_int {
    disto(a, b, &weights(w))
}

pub(super) unsafe extern "C" fn disto16x16(a: *const u8, b: *const u8, w: *const u16) -> c_int {
    let w = weights(w);
    let mut total = 0;
    for y in (0..16 * BPS).step_by(4 * BPS) {
        for x in (0..16).step_by(4) {
            total += disto(a.add(x + y), b.add(x + y), &w);
        }
    }
    total
}
