//! The bounded-memory framing of a backup's NDJSON, pure so it is unit-tested natively: [`Lines`]
//! splits a streamed object into lines keeping only the unfinished one, and [`Parts`] cuts the
//! NDJSON being written into multipart-upload parts of one fixed size. Neither holds a tenant's
//! whole index: a restore holds a chunk plus one line, a backup one part plus one line.

use thiserror::Error;

/// Longest line a restore accepts. Twice the 2 MB a row of a Durable Object's SQLite storage can
/// hold (escaping a body's quotes as JSON text at most doubles it), so every line a backup writes
/// fits; beyond it the object is corrupt, and one line must not grow without bound.
pub const MAX_LINE_BYTES: usize = 4 << 20;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("a line of the tenant's NDJSON exceeds {max} bytes (the object is corrupt)")]
pub struct LineTooLong {
    pub max: usize,
}

/// Splits a byte stream into NDJSON lines (`\n`-terminated; the last may lack it); empty lines are
/// skipped. Holds only the line still unfinished at the end of the last chunk.
#[derive(Debug)]
pub struct Lines {
    partial: Vec<u8>,
    max: usize,
}

impl Lines {
    pub fn new(max: usize) -> Self {
        Lines { partial: Vec::new(), max }
    }

    /// The lines `chunk` finishes, in order (at most a chunk's worth plus the unfinished line).
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Vec<u8>>, LineTooLong> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            self.extend(&rest[..nl])?;
            let line = std::mem::take(&mut self.partial);
            if !line.is_empty() {
                lines.push(line);
            }
            rest = &rest[nl + 1..];
        }
        self.extend(rest)?;
        Ok(lines)
    }

    /// The last line, when the stream did not end with a newline.
    pub fn finish(self) -> Option<Vec<u8>> {
        Some(self.partial).filter(|l| !l.is_empty())
    }

    fn extend(&mut self, bytes: &[u8]) -> Result<(), LineTooLong> {
        if self.partial.len() + bytes.len() > self.max {
            return Err(LineTooLong { max: self.max });
        }
        self.partial.extend_from_slice(bytes);
        Ok(())
    }
}

/// Smallest part R2 accepts in a multipart upload but for the last; R2 also wants every part but
/// the last to be the same size, so [`Parts`] cuts at exactly this many bytes, lines or not.
pub const PART_BYTES: usize = 5 << 20;

/// The NDJSON being written, cut into parts of exactly `size` bytes as it grows.
#[derive(Debug)]
pub struct Parts {
    size: usize,
    buf: Vec<u8>,
    total: u64,
    cut: u16,
}

impl Parts {
    pub fn new(size: usize) -> Self {
        Parts { size, buf: Vec::new(), total: 0, cut: 0 }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.total += bytes.len() as u64;
    }

    /// The next full part and its number (from 1), once `size` bytes are waiting.
    pub fn next_full(&mut self) -> Option<(u16, Vec<u8>)> {
        if self.buf.len() < self.size {
            return None;
        }
        let rest = self.buf.split_off(self.size);
        self.cut += 1;
        Some((self.cut, std::mem::replace(&mut self.buf, rest)))
    }

    /// Parts cut so far.
    pub fn cut(&self) -> u16 {
        self.cut
    }

    /// Every byte pushed.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// What is left (shorter than a part): the last part, or the whole object when none was cut.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

#[cfg(test)]
#[path = "ndjson_tests.rs"]
mod tests;
