//! The zip of a task's outputs, produced in fixed-size parts for an R2 multipart upload: memory
//! holds the output being added and less than one part besides, however many outputs there are.
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

/// The writer's output buffer, shared so that full parts can be taken out between entries.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct ZipParts {
    zip: ZipWriter<StreamWriter<Sink>>,
    sink: Sink,
    part_bytes: usize,
}

impl ZipParts {
    pub fn new(part_bytes: usize) -> ZipParts {
        let sink = Sink::default();
        ZipParts { zip: ZipWriter::new_stream(sink.clone()), sink, part_bytes }
    }

    /// Appends one file; returns the parts that became full (to upload now, in order).
    pub fn add(&mut self, name: &str, data: &[u8]) -> Result<Vec<Vec<u8>>, ArchiveError> {
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored).large_file(data.len() as u64 >= u32::MAX as u64);
        self.zip.start_file(name, options).map_err(|e| ArchiveError(e.to_string()))?;
        self.zip.write_all(data).map_err(|e| ArchiveError(e.to_string()))?;
        Ok(self.full_parts())
    }

    fn full_parts(&self) -> Vec<Vec<u8>> {
        take_full_parts(&self.sink, self.part_bytes)
    }

    /// Bytes waiting for the next part.
    pub fn buffered(&self) -> usize {
        self.sink.0.borrow().len()
    }

    /// Writes the central directory; returns the remaining parts (the last may be short).
    pub fn finish(self) -> Result<Vec<Vec<u8>>, ArchiveError> {
        let (sink, part_bytes) = (self.sink.clone(), self.part_bytes);
        self.zip.finish().map_err(|e| ArchiveError(e.to_string()))?;
        let mut parts = take_full_parts(&sink, part_bytes);
        let rest = std::mem::take(&mut *sink.0.borrow_mut());
        if !rest.is_empty() || parts.is_empty() {
            parts.push(rest);
        }
        Ok(parts)
    }
}

/// Takes every complete part off the front of the buffer.
fn take_full_parts(sink: &Sink, part_bytes: usize) -> Vec<Vec<u8>> {
    let mut buf = sink.0.borrow_mut();
    let mut parts = Vec::new();
    while buf.len() >= part_bytes {
        let rest = buf.split_off(part_bytes);
        parts.push(std::mem::replace(&mut *buf, rest));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert!(peak < PART_BYTES + MB5 + 4096, "buffer peak {peak} stays under a part plus one output");
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

    #[test]
    fn an_empty_zip_is_still_one_valid_part() {
        let parts = ZipParts::new(PART_BYTES).finish().expect("finish");
        assert_eq!(parts.len(), 1);
        assert!(zip::ZipArchive::new(Cursor::new(parts[0].clone())).is_ok());
    }
}
