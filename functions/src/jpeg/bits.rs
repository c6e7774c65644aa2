//! The entropy-coded segment of a JPEG: a bit reader over the byte slice (byte stuffing,
//! markers, restart intervals).
//!
//! Why our own: jpeg-decoder reads one byte at a time through `io::Read`; on wasm32 (no
//! threads, no SIMD in its Huffman code) that is most of a shrink-on-load decode. Here the
//! reader works on the slice and loads up to 7 bytes at once when none of them is FF.

/// Reads bits MSB-first from entropy-coded data, undoing `FF 00` stuffing. At a marker it
/// supplies zero bits (as libjpeg does) and remembers that it ran out, so the caller can tell
/// a complete scan from a truncated one.
pub(super) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    /// Valid bits at the top of `acc`.
    count: u32,
    /// Zero bits added after the data ended (at a marker or the end of the file).
    padding: u32,
}

impl<'a> BitReader<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0, acc: 0, count: 0, padding: 0 }
    }

    /// Makes at least 32 bits available: enough for one symbol (≤ 16) and its value (≤ 15).
    /// Refilling only below 32 means one refill per few symbols instead of one per symbol.
    #[inline(always)]
    pub(super) fn refill(&mut self) {
        if self.count >= 32 {
            return;
        }
        // Fast path: the next 8 bytes hold no FF (so no stuffing, no marker): take whole bytes
        // with one load instead of a branchy loop per byte.
        if let Some(next) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_be_bytes(next.try_into().unwrap_or([0xFF; 8]));
            let inverted = !word;
            let has_ff = inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let take = (64 - self.count) / 8;
                self.acc |= (word >> (64 - 8 * take)) << (64 - 8 * take - self.count);
                self.count += 8 * take;
                self.pos += take as usize;
                return;
            }
        }
        self.refill_slow();
    }

    // Inlined although rare: a call would take the reader's address, and then the compiler keeps
    // its fields in memory instead of registers all through the scan loop.
    #[inline(always)]
    fn refill_slow(&mut self) {
        while self.count <= 56 {
            let byte = match self.data.get(self.pos) {
                Some(&0xFF) if self.data.get(self.pos + 1) == Some(&0x00) => {
                    self.pos += 2;
                    0xFF
                }
                // A marker (or the end): stay on it and pad with zeros.
                Some(&0xFF) | None => {
                    self.padding += 8;
                    0
                }
                Some(&b) => {
                    self.pos += 1;
                    b
                }
            };
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    #[inline(always)]
    pub(super) fn peek(&self, n: u32) -> u32 {
        (self.acc >> (64 - n)) as u32
    }

    #[inline(always)]
    pub(super) fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    /// `n` (0..=16) bits as an unsigned number; the caller has refilled.
    #[inline(always)]
    pub(super) fn take(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0; // a shift by 64 would not give 0
        }
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// True when the decoder consumed bits that were padding, i.e. the data was truncated.
    pub(super) fn overran(&self) -> bool {
        self.padding > self.count
    }

    /// At a restart interval: expects `RSTn` right where the data stopped, then starts afresh.
    /// The reader never loads past a marker, so in a well-formed stream fewer than 8 real bits
    /// (the interval's padding) are left and `pos` is on the marker; anything else is corrupt.
    pub(super) fn restart(&mut self, n: u8) -> bool {
        let at_marker = self.data.get(self.pos) == Some(&0xFF) && self.data.get(self.pos + 1) == Some(&(0xD0 + n));
        if self.count.saturating_sub(self.padding) >= 8 || !at_marker {
            return false;
        }
        let next = self.pos + 2;
        *self = BitReader::new(self.data);
        self.pos = next;
        true
    }
}

/// Sign-extends a `size`-bit magnitude category value (JPEG's EXTEND procedure).
#[inline(always)]
pub(super) fn extend(v: u32, size: u32) -> i32 {
    if size == 0 {
        0
    } else if v < 1 << (size - 1) {
        v as i32 - (1 << size) + 1
    } else {
        v as i32
    }
}
