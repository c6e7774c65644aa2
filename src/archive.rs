//! The zip of a task's outputs, produced in fixed-size parts for an R2 multipart upload: memory
//! holds less than one part besides the chunk being written, however many and however large
//! the outputs (they are fed in chunks as they are read from R2).
//!
//! Entries are stored, not deflated: the outputs are already compressed images, so deflate
//! would burn CPU to save nothing. The `zip` crate's streaming writer puts sizes and CRCs in
//! data descriptors, so nothing is ever rewritten in place.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

/// Size of every part but the last. R2 wants parts of at least 5 MiB, all of one size but the
/// last; 8 MiB keeps 100 × 5 MB outputs to about 60 parts (the limit is 10,000).
pub const PART_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("building the zip: {0}")]
pub struct ArchiveError(String);

/// The writer's output, cut into parts as it is written: the part being filled grows (doubling,
/// never past one part) and, once full, moves to `ready` as is. A part is therefore exactly its
/// bytes — never a slice of a bigger buffer that keeps that buffer's capacity alive while the
/// upload holds it — and nothing larger than one part is ever buffered, however big one write.
#[derive(Default)]
struct Parts {
    part_bytes: usize,
    filling: Vec<u8>,
    ready: Vec<Vec<u8>>,
}

impl Parts {
    fn push(&mut self, mut buf: &[u8]) {
        while !buf.is_empty() {
            let take = buf.len().min(self.part_bytes - self.filling.len());
            let needed = self.filling.len() + take;
            if needed > self.filling.capacity() {
                let target = needed.max(self.filling.capacity() * 2).min(self.part_bytes);
                self.filling.reserve_exact(target - self.filling.len());
            }
            self.filling.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.filling.len() == self.part_bytes {
                self.ready.push(std::mem::take(&mut self.filling));
            }
        }
    }

    /// The short last part, in an allocation of its own size.
    fn rest(&mut self) -> Vec<u8> {
        let mut rest = std::mem::take(&mut self.filling);
        rest.shrink_to_fit();
        rest
    }
}

/// The zip writer's end of [`Parts`], shared so that full parts can be taken out between writes.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Parts>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct ZipParts {
    zip: ZipWriter<StreamWriter<Sink>>,
    sink: Sink,
}

impl ZipParts {
    /// `part_bytes` must be above 0 (R2 wants at least 5 MiB; tests use less).
    pub fn new(part_bytes: usize) -> ZipParts {
        let sink = Sink(Rc::new(RefCell::new(Parts { part_bytes: part_bytes.max(1), ..Parts::default() })));
        ZipParts { zip: ZipWriter::new_stream(sink.clone()), sink }
    }

    /// Begins a file of `size` bytes, whose data follows in [`ZipParts::write`]s.
    pub fn start(&mut self, name: &str, size: u64) -> Result<(), ArchiveError> {
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored).large_file(size >= u32::MAX as u64);
        self.zip.start_file(name, options).map_err(|e| ArchiveError(e.to_string()))
    }

    /// Appends a chunk of the current file; returns the parts that became full (to upload now,
    /// in order).
    pub fn write(&mut self, chunk: &[u8]) -> Result<Vec<Vec<u8>>, ArchiveError> {
        self.zip.write_all(chunk).map_err(|e| ArchiveError(e.to_string()))?;
        Ok(self.full_parts())
    }

    fn full_parts(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.sink.0.borrow_mut().ready)
    }

    /// Writes the central directory; returns the remaining parts (the last may be short).
    pub fn finish(self) -> Result<Vec<Vec<u8>>, ArchiveError> {
        let sink = self.sink.clone();
        self.zip.finish().map_err(|e| ArchiveError(e.to_string()))?;
        let mut parts = sink.0.borrow_mut();
        let rest = parts.rest();
        let mut out = std::mem::take(&mut parts.ready);
        if !rest.is_empty() || out.is_empty() {
            out.push(rest);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl ZipParts {
        /// Appends one whole file; returns the parts that became full.
        fn add(&mut self, name: &str, data: &[u8]) -> Result<Vec<Vec<u8>>, ArchiveError> {
            self.start(name, data.len() as u64)?;
            self.write(data)
        }

        /// Bytes waiting for the next part.
        fn buffered(&self) -> usize {
            self.sink.0.borrow().filling.len()
        }
    }
    use std::io::{Cursor, Read};

    fn file(i: usize, len: usize) -> Vec<u8> {
        (0..len).map(|j| (i * 31 + j * 7) as u8).collect()
    }

    #[test]
    fn a_hundred_five_megabyte_outputs_stream_through_bounded_memory() {
        const MB5: usize = 5_000_000;
        let mut zip = ZipParts::new(PART_BYTES);
        let (mut parts, mut peak) = (Vec::new(), 0);
        for i in 0..100 {
            let data = file(i, MB5);
            for part in zip.add(&format!("{i}.jpg"), &data).expect("add") {
                assert_eq!(part.len(), PART_BYTES, "every part but the last has the one size R2 wants");
                parts.push(part.len());
            }
            peak = peak.max(zip.buffered());
        }
        assert!(peak < PART_BYTES, "buffer peak {peak} stays under one part");
        let last = zip.finish().expect("finish");
        let total: usize = parts.iter().sum::<usize>() + last.iter().map(Vec::len).sum::<usize>();
        assert!(total > 100 * MB5 && total < 100 * MB5 + 100 * 200, "stored entries: {total} bytes");
    }

    #[test]
    fn the_parts_concatenate_to_a_zip_any_reader_opens() {
        let mut zip = ZipParts::new(1 << 20);
        let mut bytes = Vec::new();
        let files: Vec<Vec<u8>> = (0..5).map(|i| file(i, 300_000 * (i + 1))).collect();
        for (i, data) in files.iter().enumerate() {
            bytes.extend(zip.add(&format!("img-{i}.png"), data).expect("add").concat());
        }
        bytes.extend(zip.finish().expect("finish").concat());
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a valid zip");
        assert_eq!(archive.len(), 5);
        for (i, data) in files.iter().enumerate() {
            let mut entry = archive.by_name(&format!("img-{i}.png")).expect("entry");
            let mut back = Vec::new();
            entry.read_to_end(&mut back).expect("read");
            assert!(back == *data, "entry {i} round-trips");
        }
    }

    /// Capacity a part may carry beyond its bytes: an upload holds each part until it is sent,
    /// so capacity inherited from a bigger buffer is memory held for nothing.
    const SLACK: usize = 4096;

    #[test]
    fn every_part_owns_no_more_memory_than_its_bytes() {
        let part_bytes = 1 << 20;
        let mut zip = ZipParts::new(part_bytes);
        let mut bytes = Vec::new();
        let files: Vec<Vec<u8>> = (0..4).map(|i| file(i, 2_700_000 + i * 10_000)).collect();
        let mut parts = Vec::new();
        for (i, data) in files.iter().enumerate() {
            parts.extend(zip.add(&format!("{i}.webp"), data).expect("add"));
            assert!(zip.buffered() < part_bytes, "less than one part waits: {}", zip.buffered());
        }
        parts.extend(zip.finish().expect("finish"));
        for (i, part) in parts.iter().enumerate() {
            assert!(part.capacity() <= part.len() + SLACK, "part {i}: {} bytes in a {}-byte allocation", part.len(), part.capacity());
            bytes.extend_from_slice(part);
        }
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a valid zip");
        for (i, data) in files.iter().enumerate() {
            let mut back = Vec::new();
            archive.by_name(&format!("{i}.webp")).expect("entry").read_to_end(&mut back).expect("read");
            assert!(back == *data, "entry {i} round-trips");
        }
    }

    #[test]
    fn an_output_fed_in_chunks_gives_the_same_zip_as_fed_whole() {
        let data = file(3, 700_000);
        let mut whole = ZipParts::new(1 << 16);
        let mut expected = whole.add("a.png", &data).expect("add").concat();
        expected.extend(whole.finish().expect("finish").concat());
        let mut chunked = ZipParts::new(1 << 16);
        chunked.start("a.png", data.len() as u64).expect("start");
        let mut got = Vec::new();
        for chunk in data.chunks(4099) {
            got.extend(chunked.write(chunk).expect("write").concat());
            assert!(chunked.buffered() < 1 << 16);
        }
        got.extend(chunked.finish().expect("finish").concat());
        assert!(got == expected, "same bytes, whichever way the data came");
    }

    #[test]
    fn an_empty_zip_is_still_one_valid_part() {
        let parts = ZipParts::new(PART_BYTES).finish().expect("finish");
        assert_eq!(parts.len(), 1);
        assert!(zip::ZipArchive::new(Cursor::new(parts[0].clone())).is_ok());
    }
}
