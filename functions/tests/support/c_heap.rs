//! A counting C heap, for tests that measure code whose memory is partly C's (libwebp, whose
//! `malloc`s a Rust global allocator never sees natively; in the Worker they do reach it, through
//! crates/webp-lossy's libc shim). This module defines `malloc`, `calloc`, `realloc`, `free` and
//! `posix_memalign`, so the static link sends every allocation of the test binary to them, C's
//! and Rust's alike (std's system allocator calls them), and they forward to glibc's own
//! (`__libc_malloc`, …), counting each block's usable size. Linux with glibc only, as the test
//! machines are. Counts are per thread: tests run on parallel threads.

use std::ffi::{c_int, c_void};

extern "C" {
    fn __libc_malloc(size: usize) -> *mut c_void;
    fn __libc_calloc(count: usize, size: usize) -> *mut c_void;
    fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void;
    fn __libc_free(p: *mut c_void);
    fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    fn malloc_usable_size(p: *mut c_void) -> usize;
}

#[path = "tally.rs"]
mod tally;
use tally::count;
pub use tally::peak;

/// The usable size of a block (0 for null), as counted in and out.
unsafe fn size_of(p: *mut c_void) -> isize {
    if p.is_null() {
        0
    } else {
        malloc_usable_size(p) as isize
    }
}

#[no_mangle]
unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    let p = __libc_malloc(size);
    count(size_of(p));
    p
}

#[no_mangle]
unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    let p = __libc_calloc(n, size);
    count(size_of(p));
    p
}

#[no_mangle]
unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    let before = size_of(p);
    let q = __libc_realloc(p, size);
    if !q.is_null() || size == 0 {
        count(size_of(q) - before);
    }
    q
}

#[no_mangle]
unsafe extern "C" fn free(p: *mut c_void) {
    count(-size_of(p));
    __libc_free(p);
}

#[no_mangle]
unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    let p = __libc_memalign(align, size);
    if p.is_null() {
        return 12; // ENOMEM
    }
    count(size_of(p));
    *out = p;
    0
}
