//! One Huffman table of a JPEG scan, with lookup tables that resolve the common short codes
//! in one step: the symbol alone, a DC difference with its value, an AC coefficient with its
//! value (the "fast AC" idea of stb_image), and, for coefficients the scaled decode drops,
//! up to a whole run of them at once.
//!
//! Why: at 1/4 and 1/8 scale every AC coefficient must still be decoded to be stepped over,
//! and in a photo most of a block's coefficients are past the kept K×K corner; their values
//! are never needed, only how many bits and zigzag positions they take.

use super::bits::{extend, BitReader};

/// Bits resolved by one table lookup: 11 covers nearly every symbol, and with its value most
/// AC coefficients of high-quality photos (tables of 2,048 entries, cache-resident).
pub(super) const LOOKUP_BITS: u32 = 11;
const ENTRIES: usize = 1 << LOOKUP_BITS;

/// One Huffman table, decoded from a DHT segment.
pub(super) struct Huffman {
    /// By the next `LOOKUP_BITS` bits: `(length << 8) | symbol`, or 0 for longer codes.
    lookup: Box<[u16; ENTRIES]>,
    /// For DC tables: a short code and its difference in one, as `(value << 8) | bits used`,
    /// or 0.
    fast_dc: Box<[i32; ENTRIES]>,
    /// For AC tables: a short code and its short value in one, as
    /// `(value << 8) | (run << 4) | bits used`, or 0. Value 0 means EOB (run 0) or ZRL (run 15).
    fast_ac: Box<[i16; ENTRIES]>,
    /// For AC tables, to step over coefficients that are not kept: see [`Skip`].
    skip_ac: Box<[u32; ENTRIES]>,
    /// Canonical decoding for codes longer than `LOOKUP_BITS` (ITU T.81 F.2.2.3).
    max_code: [i32; 18],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

/// A [`Huffman::skip_ac`] entry: as many whole AC symbols as the next `LOOKUP_BITS` bits hold
/// (the last one's value bits may run past them: a value that is dropped is never looked at).
#[derive(Clone, Copy)]
pub(super) struct Skip(u32);

impl Skip {
    /// Whether the entry resolved anything (else: decode one symbol the long way).
    #[inline(always)]
    pub(super) fn is_some(self) -> bool {
        self.0 != 0
    }
    /// Code and value bits of all its symbols.
    #[inline(always)]
    pub(super) fn bits(self) -> u32 {
        self.0 & 31
    }
    /// Zigzag positions stepped over (each symbol's zero run and its coefficient).
    #[inline(always)]
    pub(super) fn advance(self) -> usize {
        ((self.0 >> 8) & 0xFF) as usize
    }
    /// Positions before its last symbol: the entry stands for what a one-symbol-at-a-time
    /// decode of a block at position `z` does only if `z + guard < 64`, since that decode
    /// stops at position 64.
    #[inline(always)]
    pub(super) fn guard(self) -> usize {
        ((self.0 >> 16) & 0xFF) as usize
    }
    /// Whether its last symbol ends the block.
    #[inline(always)]
    pub(super) fn ends_block(self) -> bool {
        self.0 >> 24 != 0
    }
}

/// How an AC symbol moves through the block: run + 1 positions, or 0 for end of block. Only
/// EOB (0x00) and ZRL (0xF0) have no value; libjpeg takes any other such symbol as EOB too.
fn ac_step(rs: u32) -> u32 {
    let (run, size) = (rs >> 4, rs & 15);
    if size == 0 && run != 15 {
        0
    } else {
        run + 1
    }
}

impl Huffman {
    /// Builds a table from the 16 code-length counts and the symbols; `None` if they are inconsistent.
    pub(super) fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Huffman> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total != symbols.len() || total > 256 {
            return None;
        }
        let mut table = Huffman {
            lookup: Box::new([0; ENTRIES]),
            fast_dc: Box::new([0; ENTRIES]),
            fast_ac: Box::new([0; ENTRIES]),
            skip_ac: Box::new([0; ENTRIES]),
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
        for i in 0..ENTRIES {
            table.build_fast(i);
            table.skip_ac[i] = table.skip_entry(i);
        }
        Some(table)
    }

    /// The one-symbol entries for the bits `i`. A table does not say whether it is for DC or
    /// AC, so both kinds are made; the scan uses the one for its class.
    fn build_fast(&mut self, i: usize) {
        let entry = self.lookup[i];
        let len = u32::from(entry >> 8);
        let symbol = u32::from(entry & 0xFF);
        // The value bits that follow a code of `len` bits, when they are within the window.
        let value = |size: u32| extend((i as u32 >> (LOOKUP_BITS - len - size)) & ((1 << size) - 1), size);
        if len == 0 {
            return;
        }
        // DC: the symbol is the difference's size (at most 11, else the data is corrupt).
        if len + symbol <= LOOKUP_BITS {
            self.fast_dc[i] = (value(symbol) << 8) | (len + symbol) as i32;
        }
        let (run, size) = (symbol >> 4, symbol & 15);
        if len + size > LOOKUP_BITS || (size == 0 && run != 0 && run != 15) {
            return;
        }
        // End of block and the 16-zero run (ZRL) have no value bits; they get value 0, which
        // no real coefficient has: EOB as run 0, ZRL as run 15 (then a 0 is stored).
        let value = value(size);
        if (-128..128).contains(&value) {
            self.fast_ac[i] = ((value << 8) | (run << 4) as i32 | (len + size) as i32) as i16;
        }
    }

    /// The skip entry for the bits `i`: whole symbols while their codes lie within the window.
    fn skip_entry(&self, i: usize) -> u32 {
        let (mut pos, mut advance, mut guard, mut ends) = (0, 0, 0, false);
        while pos < LOOKUP_BITS {
            // The rest of the window, with zeros after it; a code is only taken if all of it is real.
            let entry = self.lookup[(i << pos) & (ENTRIES - 1)];
            let len = u32::from(entry >> 8);
            if len == 0 || pos + len > LOOKUP_BITS {
                break;
            }
            let step = ac_step(u32::from(entry & 0xFF));
            guard = advance;
            pos += len + u32::from(entry & 15);
            if step == 0 {
                ends = true;
                break;
            }
            advance += step;
        }
        if pos == 0 {
            return 0;
        }
        (u32::from(ends) << 24) | (guard << 16) | (advance << 8) | pos
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

    /// The fast-DC entry for the next bits (0 when the slow path is needed).
    #[inline(always)]
    pub(super) fn fast_dc(&self, bits: &BitReader) -> i32 {
        self.fast_dc[bits.peek(LOOKUP_BITS) as usize]
    }

    /// The skip entry for the next bits.
    #[inline(always)]
    pub(super) fn skip_ac(&self, bits: &BitReader) -> Skip {
        Skip(self.skip_ac[bits.peek(LOOKUP_BITS) as usize])
    }

    /// The fast-AC entry for the next bits (0 when the slow path is needed).
    #[inline(always)]
    pub(super) fn fast_ac(&self, bits: &BitReader) -> i16 {
        self.fast_ac[bits.peek(LOOKUP_BITS) as usize]
    }
}
