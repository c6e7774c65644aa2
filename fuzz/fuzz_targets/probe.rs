//! The format probe run on every upload: magic sniffing and header-only dimensions of every
//! input format, plus the first-frame checks. No input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = functions::format::probe(data);
});
