//! The few C library functions libwebp calls, for wasm32-unknown-unknown, which has no libc.
//!
//! Only on wasm32 (native builds link the system libc). libwebp's headers come from Debian's
//! wasi-libc (`.cargo/config.toml`), but its functions are WASI's and need a WASI host; these are
//! the ones left unresolved once Rust's compiler_builtins has supplied `memcpy`/`memset`/libm.
//! A missing one would not fail the link: it becomes an `env` import that workerd cannot
//! satisfy, which `scripts/build.sh` checks for (`scripts/wasm-imports.mjs`).
//!
//! The allocator functions go to Rust's global allocator, so libwebp's memory is counted by the
//! Worker's counting allocator (src/memory.rs) and bounded by the same 128 MiB linear memory.

use std::alloc::{alloc, dealloc, realloc as grow, Layout};
use std::ffi::c_void;

/// Bytes kept in front of each block for its size (`free` gets no size from C); 16 so the block
/// itself keeps malloc's 16-byte alignment.
const HEADER: usize = 16;

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, HEADER).ok()
}

/// # Safety
/// C's `malloc`: the block is freed with [`free`] or resized with [`realloc`] only.
#[no_mangle]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    let Some(layout) = layout(size) else { return std::ptr::null_mut() };
    let block = alloc(layout);
    if block.is_null() {
        return block.cast();
    }
    block.cast::<usize>().write(size);
    block.add(HEADER).cast()
}

/// # Safety
/// C's `calloc`.
#[no_mangle]
pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
    let Some(total) = count.checked_mul(size) else { return std::ptr::null_mut() };
    let p = malloc(total);
    if !p.is_null() {
        p.cast::<u8>().write_bytes(0, total);
    }
    p
}

/// The block's start and its layout, from a pointer [`malloc`] returned.
unsafe fn block_of(p: *mut c_void) -> (*mut u8, Layout) {
    let block = p.cast::<u8>().sub(HEADER);
    let size = block.cast::<usize>().read();
    (block, Layout::from_size_align_unchecked(size + HEADER, HEADER))
}

/// # Safety
/// C's `free`: `p` is null or came from this module's allocator functions.
#[no_mangle]
pub unsafe extern "C" fn free(p: *mut c_void) {
    if !p.is_null() {
        let (block, layout) = block_of(p);
        dealloc(block, layout);
    }
}

/// # Safety
/// C's `realloc`.
#[no_mangle]
pub unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    if p.is_null() {
        return malloc(size);
    }
    let Some(new_size) = size.checked_add(HEADER) else { return std::ptr::null_mut() };
    let (block, layout) = block_of(p);
    let block = grow(block, layout, new_size);
    if block.is_null() {
        return block.cast();
    }
    block.cast::<usize>().write(size);
    block.add(HEADER).cast()
}

type Compare = unsafe extern "C" fn(*const c_void, *const c_void) -> i32;

/// # Safety
/// C's `qsort` (libwebp sorts histograms and colour tables with it): `base`
/// holds `count` elements of `size` bytes that `compare` can read. Sorted through an index
/// vector with Rust's sort, then permuted through one copy: `count` is at most a few thousand.
#[no_mangle]
pub unsafe extern "C" fn qsort(base: *mut c_void, count: usize, size: usize, compare: Option<Compare>) {
    let Some(compare) = compare else { return };
    if count < 2 || size == 0 {
        return;
    }
    let base = base.cast::<u8>();
    let at = |i: usize| base.add(i * size).cast_const().cast::<c_void>();
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_unstable_by(|&a, &b| compare(at(a), at(b)).cmp(&0));
    let copy = std::slice::from_raw_parts(base, count * size).to_vec();
    for (to, from) in order.into_iter().enumerate() {
        std::ptr::copy_nonoverlapping(copy.as_ptr().add(from * size), base.add(to * size), size);
    }
}
