//! WebAssembly SIMD (simd128) versions of the VP8 encoder's hottest kernels, put in libwebp's
//! dsp function pointers in place of its plain-C ones.
//!
//! Why: libwebp's fast kernels are SSE2 and NEON intrinsics, which a wasm32 build cannot
//! compile, so in the Worker every transform ran as plain C and a 256×256 WebP took ~3× what
//! native cwebp takes. A profile of the plain-C encoder (callgrind, a 256×256 photo, q80 -m 4,
//! the `thumbnail` preset's encode) put two thirds of its instructions in five kernels: the
//! inverse transform 18 %, the Hadamard distortion 17 %, quantisation 16 %, the forward
//! transform 15 %, the 4×4 SSE 4 %. Those are replaced here, and the residual cost after them
//! ([`cost`]); the rest stays libwebp's C.
//!
//! Exactness: each kernel performs the integer operations of the C kernel it replaces (32-bit
//! wrapping products where C multiplies `int`s, arithmetic shifts where C shifts signed values,
//! libwebp's clipping), so the bitstream is the one the C encoder writes, byte for byte: the
//! e2e test `webp.rs` compares the Worker's WebP bytes with this crate's native build (whose
//! SSE2 kernels libwebp keeps bit-exact with its C ones).
//!
//! How they are installed: libwebp fills its pointers once, in `VP8EncDspInit` (and the cost
//! ones in `VP8EncDspCostInit`), each guarded by a flag that only a change of `VP8GetCPUInfo`
//! resets. [`install`] runs those inits first and then overwrites the pointers; the encoder's
//! own later calls to the inits find them done.

mod cost;
mod metrics;
mod quantize;
mod transforms;

use std::ffi::c_int;
use std::sync::Once;

/// libwebp's work buffers' stride (`BPS` in `dsp.h`): every block is read and written with it.
const BPS: usize = 32;

/// libwebp's quantisation matrix (`VP8Matrix` in `enc/vp8i_enc.h`), as C lays it out.
#[repr(C)]
pub struct Matrix {
    q: [u16; 16],
    iq: [u16; 16],
    bias: [u32; 16],
    zthresh: [u32; 16],
    sharpen: [u16; 16],
}

type Idct = unsafe extern "C" fn(*const u8, *const i16, *mut u8, c_int);
type Fdct = unsafe extern "C" fn(*const u8, *const u8, *mut i16);
type Metric = unsafe extern "C" fn(*const u8, *const u8) -> c_int;
type WMetric = unsafe extern "C" fn(*const u8, *const u8, *const u16) -> c_int;
type Quantize = unsafe extern "C" fn(*mut i16, *mut i16, *const Matrix) -> c_int;
type ResidualCost = unsafe extern "C" fn(c_int, *const cost::Residual) -> c_int;
type ResidualCoeffs = unsafe extern "C" fn(*const i16, *mut cost::Residual);

extern "C" {
    fn VP8EncDspInit();
    fn VP8EncDspCostInit();
    static mut VP8GetResidualCost: Option<ResidualCost>;
    static mut VP8SetResidualCoeffs: Option<ResidualCoeffs>;
    static mut VP8ITransform: Option<Idct>;
    static mut VP8FTransform: Option<Fdct>;
    static mut VP8SSE16x16: Option<Metric>;
    static mut VP8SSE16x8: Option<Metric>;
    static mut VP8SSE8x8: Option<Metric>;
    static mut VP8SSE4x4: Option<Metric>;
    static mut VP8TDisto4x4: Option<WMetric>;
    static mut VP8TDisto16x16: Option<WMetric>;
    static mut VP8EncQuantizeBlock: Option<Quantize>;
    static mut VP8EncQuantize2Blocks: Option<Quantize>;
    static mut VP8EncQuantizeBlockWHT: Option<Quantize>;
}

/// Puts the SIMD kernels in libwebp's pointers, once per instance, before the first encode.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: wasm32 runs one thread, and no encode is running while the pointers are set
        // (this runs before the first one); each kernel has the C kernel's signature and
        // contract (same pointers, strides and bounds read and written).
        unsafe {
            VP8EncDspInit();
            VP8ITransform = Some(transforms::itransform);
            VP8FTransform = Some(transforms::ftransform);
            VP8SSE16x16 = Some(metrics::sse16x16);
            VP8SSE16x8 = Some(metrics::sse16x8);
            VP8SSE8x8 = Some(metrics::sse8x8);
            VP8SSE4x4 = Some(metrics::sse4x4);
            VP8TDisto4x4 = Some(metrics::disto4x4);
            VP8TDisto16x16 = Some(metrics::disto16x16);
            VP8EncQuantizeBlock = Some(quantize::quantize_block);
            VP8EncQuantize2Blocks = Some(quantize::quantize_2_blocks);
            VP8EncQuantizeBlockWHT = Some(quantize::quantize_block);
            VP8EncDspCostInit();
            VP8GetResidualCost = Some(cost::get_residual_cost);
            VP8SetResidualCoeffs = Some(cost::set_residual_coeffs);
        }
    });
}
