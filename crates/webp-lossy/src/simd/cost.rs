//! The residual coding cost of a block's coefficients (`GetResidualCost_C` and
//! `SetResidualCoeffs_C` in libwebp's `dsp/cost.c`), asked for every candidate mode of every
//! block while the encoder decides.
//!
//! Why: after the five kernels of [`super`], these two were the largest plain-C items of the
//! `thumbnail` preset's encode in a V8 CPU profile of the Worker (17 % and 4 % of it). The
//! coefficients' magnitudes, contexts and clamped levels are computed for all 16 at once, as
//! libwebp's SSE2 version does; the walk over the cost tables stays scalar (each step's table
//! depends on the previous coefficient). Measured through the dev-only `POST /__bench/chain`
//! (a diagnostic: PNG in, `encode` WebP q80, A/B on two servers, medians): 1024×768 189.3 →
//! 186.2 and 169.6 → 167.2 ms, 256×256 32.8 → 32.1 and 32.9 → 32.6 ms per request, the same
//! bytes (docs/BENCHMARKS.md).

use core::arch::wasm32::*;
use std::ffi::c_int;

/// libwebp's `MAX_VARIABLE_LEVEL`: the last level whose cost depends on the context.
const MAX_VARIABLE_LEVEL: u8 = 67;
/// Contexts per band (`NUM_CTX`) and probabilities per context (`NUM_PROBAS`).
const NUM_CTX: usize = 3;
const NUM_PROBAS: usize = 11;

/// One band's probabilities (`ProbaArray`).
type Probas = [[u8; NUM_PROBAS]; NUM_CTX];
/// One position's cost tables by context (`CostArrayPtr` points at an array of these).
type Costs = [*const u16; NUM_CTX];

/// libwebp's `VP8Residual` (`enc/cost_enc.h`), as C lays it out.
#[repr(C)]
pub struct Residual {
    first: c_int,
    last: c_int,
    coeffs: *const i16,
    coeff_type: c_int,
    prob: *const Probas,
    stats: *mut core::ffi::c_void,
    costs: *const Costs,
}

extern "C" {
    static VP8EntropyCost: [u16; 256];
    static VP8LevelFixedCosts: [u16; 2048];
    static VP8EncBands: [u8; 17];
}

/// `VP8BitCost`: the cost of coding `bit` with probability `proba` (of a 0).
#[inline(always)]
unsafe fn bit_cost(bit: bool, proba: u8) -> c_int {
    c_int::from(VP8EntropyCost[usize::from(if bit { 255 - proba } else { proba })])
}

/// `VP8LevelCost` with the level already clamped for the table (`clamped`): in C's `int`.
#[inline(always)]
unsafe fn level_cost(table: *const u16, level: u16, clamped: u8) -> c_int {
    c_int::from(VP8LevelFixedCosts[usize::from(level)]) + c_int::from(*table.add(usize::from(clamped)))
}

/// The 16 coefficients' magnitudes saturated to 8 bits (`_mm_packs_epi16` of their absolute
/// values; the quantised levels are at most 2047, far from `i16::MIN`).
#[inline(always)]
unsafe fn magnitudes(coeffs: *const i16) -> (v128, v128, v128) {
    let low = i16x8_abs(v128_load(coeffs.cast()));
    let high = i16x8_abs(v128_load(coeffs.add(8).cast()));
    (low, high, i8x16_narrow_i16x8(low, high))
}

/// `SetResidualCoeffs_C`: points `res` at `coeffs` and sets `last`, the position of the last
/// non-zero coefficient (−1 if none).
pub(super) unsafe extern "C" fn set_residual_coeffs(coeffs: *const i16, res: *mut Residual) {
    // Saturating to 8 bits keeps every non-zero coefficient non-zero: no magnitudes needed.
    let packed = i8x16_narrow_i16x8(v128_load(coeffs.cast()), v128_load(coeffs.add(8).cast()));
    let nonzero = u32::from(!i8x16_bitmask(i8x16_eq(packed, i8x16_splat(0))));
    (*res).last = if nonzero == 0 { -1 } else { 31 - nonzero.leading_zeros() as c_int };
    (*res).coeffs = coeffs;
}

/// `GetResidualCost_C`: the cost of coding `res`'s coefficients after context `ctx0`.
pub(super) unsafe extern "C" fn get_residual_cost(ctx0: c_int, res: *const Residual) -> c_int {
    let res = &*res;
    let mut n = res.first as usize;
    let ctx0 = ctx0 as usize;
    // `prob[n]` stands for `prob[VP8EncBands[n]]`: the same for n = 0 or 1.
    let p0 = (*res.prob.add(n))[ctx0][0];
    if res.last < 0 {
        return bit_cost(false, p0);
    }
    // The tables already hold the cost of the "not zero" bit, except after context 0.
    let mut cost = if ctx0 == 0 { bit_cost(true, p0) } else { 0 };
    let (mut abs, mut ctxs, mut levels) = ([0u16; 16], [0u8; 16], [0u8; 16]);
    let (low, high, packed) = magnitudes(res.coeffs);
    v128_store(abs.as_mut_ptr().cast(), low);
    v128_store(abs.as_mut_ptr().add(8).cast(), high);
    v128_store(ctxs.as_mut_ptr().cast(), u8x16_min(packed, u8x16_splat(2)));
    v128_store(levels.as_mut_ptr().cast(), u8x16_min(packed, u8x16_splat(MAX_VARIABLE_LEVEL)));
    let mut table = (*res.costs.add(n))[ctx0];
    let last = res.last as usize;
    while n < last {
        cost += level_cost(table, abs[n], levels[n]);
        table = (*res.costs.add(n + 1))[usize::from(ctxs[n])];
        n += 1;
    }
    // The last coefficient is never zero; after it, the cost of "no more" unless it is the 16th.
    cost += level_cost(table, abs[n], levels[n]);
    if n < 15 {
        let band = usize::from(VP8EncBands[n + 1]);
        cost += bit_cost(false, (*res.prob.add(band))[usize::from(ctxs[n])][0]);
    }
    cost
}
