//! Our own JPEG decoder (`functions/src/jpeg`): any input the header reader accepts is decoded
//! at 1/8, 1/4 and 1/2 scale, which is the path that decoder takes (full size and anything it
//! declines fall back to jpeg-decoder, also exercised). No input may panic.
#![no_main]

use functions::decode::DecodeOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The JPEG magic, so every input reaches the JPEG path rather than the sniffer's refusal.
    let mut bytes = vec![0xFF, 0xD8, 0xFF];
    bytes.extend_from_slice(data);
    for hint in [Some((1, 1)), Some((64, 64)), None] {
        let opts = DecodeOptions { hint, max_pixels: 1 << 22, max_alloc: 64 << 20, orient: true, keep_profile: false };
        let _ = functions::raster::load(bytes.clone(), &opts);
    }
});
