//! The entropy-coded segment of a JPEG: a bit reader over the byte slice (byte stuffing,
//! markers) and Huffman tables with lookup tables sized for the common short codes.
//!
//! Why our own: jpeg-decoder reads one byte at a time through `io::Read` and decodes every AC
//! symbol and its value in separate steps; on wasm32 (no threads, no SIMD in its Huffman code)
//! that is most of a shrink-on-load decode. Here the reader works on the slice and the AC table
//! resolves a short code *and* its value in one lookup (the "fast AC" idea of stb_image).

/// Bits resolved by one table lookup: 11 covers nearly every symbol, and with its value most
/// AC coefficients of high-quality photos (2 tables of 2,048 entries: 8 KiB, cache-resident).
pub(super) const LOOKUP_BITS: u32 = 11;

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

/// One Huffman table, decoded from a DHT segment.
pub(super) struct Huffman {
    /// By the next `LOOKUP_BITS` bits: `(length << 8) | symbol`, or 0 for longer codes.
    lookup: Box<[u16; 1 << LOOKUP_BITS]>,
    /// By the next `LOOKUP_BITS` bits, for AC tables: a short code and its short value in one,
    /// as `(value << 8) | (run << 4) | bits used`, or 0. Value 0 means EOB (run 0) or ZRL (run 15).
    fast_ac: Box<[i16; 1 << LOOKUP_BITS]>,
    /// By the next `LOOKUP_BITS` bits, for AC tables: how to step over a coefficient that is not
    /// kept, as `(run + 1) << 5 | (code + value bits)`, with a step of 0 for end of block, or 0
    /// when the code is longer. The value is never looked at, so its size does not matter.
    skip_ac: Box<[u16; 1 << LOOKUP_BITS]>,
    /// Canonical decoding for codes longer than `LOOKUP_BITS` (ITU T.81 F.2.2.3).
    max_code: [i32; 18],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    /// Builds a table from the 16 code-length counts and the symbols; `None` if they are inconsistent.
    pub(super) fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Huffman> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total != symbols.len() || total > 256 {
            return None;
        }
        let mut table = Huffman {
            lookup: Box::new([0; 1 << LOOKUP_BITS]),
            fast_ac: Box::new([0; 1 << LOOKUP_BITS]),
            skip_ac: Box::new([0; 1 << LOOKUP_BITS]),
            max_code: [-1; 18],
            offset: [0; 17],
            symbols: symbols.to_vec(),
        };
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = usize::from(counts[len as usize - 1]);
            table.offset[len as usize] = k as i32 - code as i32;
            for _ in 0..n {
                // A code that no longer fits in `len` bits: the counts are impossible.
                if code >= 1 << len {
                    return None;
                }
                if len <= LOOKUP_BITS {
                    let shift = LOOKUP_BITS - len;
                    for fill in 0..(1u32 << shift) {
                        table.lookup[((code << shift) | fill) as usize] = ((len as u16) << 8) | u16::from(symbols[k]);
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                table.max_code[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        table.max_code[17] = i32::MAX;
        table.build_fast_tables();
        Some(table)
    }

    fn build_fast_tables(&mut self) {
        for i in 0..(1usize << LOOKUP_BITS) {
            let entry = self.lookup[i];
            let len = u32::from(entry >> 8);
            let rs = u32::from(entry & 0xFF);
            let (run, size) = (rs >> 4, rs & 15);
            if len == 0 {
                continue;
            }
            // Only EOB (0x00) and ZRL (0xF0) have no value; libjpeg takes any other as EOB too.
            let step = if size == 0 && run != 15 { 0 } else { run + 1 };
            self.skip_ac[i] = ((step << 5) | (len + size)) as u16;
            if len + size > LOOKUP_BITS {
                continue;
            }
            // End of block and the 16-zero run (ZRL) have no value bits; they get value 0,
            // which no real coefficient has: EOB as run 0, ZRL as run 15 (then a 0 is stored).
            let value = if size == 0 {
                if run != 0 && run != 15 {
                    continue;
                }
                0
            } else {
                extend((i as u32 >> (LOOKUP_BITS - len - size)) & ((1 << size) - 1), size)
            };
            if (-128..128).contains(&value) {
                self.fast_ac[i] = ((value << 8) | (run << 4) as i32 | (len + size) as i32) as i16;
            }
        }
    }

    /// Decodes one symbol; `None` for a code no table entry has (corrupt data).
    #[inline(always)]
    pub(super) fn decode(&self, bits: &mut BitReader) -> Option<u8> {
        let entry = self.lookup[bits.peek(LOOKUP_BITS) as usize];
        if entry != 0 {
            bits.consume(u32::from(entry >> 8));
            return Some(entry as u8);
        }
        let peek16 = bits.peek(16) as i32;
        for len in (LOOKUP_BITS + 1)..=16 {
            let code = peek16 >> (16 - len);
            if code <= self.max_code[len as usize] {
                bits.consume(len);
                return self.symbols.get((code + self.offset[len as usize]) as usize).copied();
            }
        }
        None
    }

    /// The skip entry for the next bits (0 when the slow path is needed).
    #[inline(always)]
    pub(super) fn skip_ac(&self, bits: &BitReader) -> u16 {
        self.skip_ac[bits.peek(LOOKUP_BITS) as usize]
    }

    /// The fast-AC entry for the next bits (0 when the slow path is needed).
    #[inline(always)]
    pub(super) fn fast_ac(&self, bits: &BitReader) -> i16 {
        self.fast_ac[bits.peek(LOOKUP_BITS) as usize]
    }
}
