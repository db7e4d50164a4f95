//! Output kept in memory with a byte limit: the first and the last bytes, the middle dropped.

/// A stream's output as returned to the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// At most the limit: the head, then (if truncated) the tail.
    pub bytes: Vec<u8>,
    /// Everything the stream produced.
    pub total_bytes: u64,
    /// `bytes` lacks a middle part.
    pub truncated: bool,
}

impl Captured {
    /// Lossy UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Collects a stream, keeping `limit / 2` bytes from the start and up to `limit - limit / 2`
/// from the end (a ring buffer).
#[derive(Debug, Clone)]
pub struct CaptureBuffer {
    limit: usize,
    head: Vec<u8>,
    tail: Vec<u8>,
    /// Where the next tail byte goes once the tail is full.
    tail_start: usize,
    total: u64,
}

impl CaptureBuffer {
    pub fn new(limit: usize) -> CaptureBuffer {
        CaptureBuffer {
            limit,
            head: Vec::new(),
            tail: Vec::new(),
            tail_start: 0,
            total: 0,
        }
    }

    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let head_limit = self.limit / 2;
        if self.head.len() < head_limit {
            let take = bytes.len().min(head_limit - self.head.len());
            self.head.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        let tail_limit = self.limit - head_limit;
        if tail_limit == 0 || bytes.is_empty() {
            return;
        }
        if bytes.len() >= tail_limit {
            self.tail.clear();
            self.tail
                .extend_from_slice(&bytes[bytes.len() - tail_limit..]);
            self.tail_start = 0;
            return;
        }
        for &byte in bytes {
            if self.tail.len() < tail_limit {
                self.tail.push(byte);
            } else {
                self.tail[self.tail_start] = byte;
                self.tail_start = (self.tail_start + 1) % tail_limit;
            }
        }
    }

    pub fn finish(self) -> Captured {
        let kept = (self.head.len() + self.tail.len()) as u64;
        let mut bytes = self.head;
        bytes.extend_from_slice(&self.tail[self.tail_start..]);
        bytes.extend_from_slice(&self.tail[..self.tail_start]);
        Captured {
            bytes,
            total_bytes: self.total,
            truncated: kept < self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_below_the_limit() {
        let mut buffer = CaptureBuffer::new(10);
        buffer.push(b"abc");
        buffer.push(b"def");
        let captured = buffer.finish();
        assert_eq!(captured.bytes, b"abcdef");
        assert_eq!(captured.total_bytes, 6);
        assert!(!captured.truncated);
    }

    #[test]
    fn keeps_head_and_tail_above_it() {
        let input: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        for chunk in [1, 3, 7, 64, 10_000] {
            let mut buffer = CaptureBuffer::new(100);
            for piece in input.chunks(chunk) {
                buffer.push(piece);
            }
            let captured = buffer.finish();
            let mut expected = input[..50].to_vec();
            expected.extend_from_slice(&input[input.len() - 50..]);
            assert_eq!(captured.bytes, expected, "chunk {chunk}");
            assert_eq!(captured.total_bytes, 10_000);
            assert!(captured.truncated);
        }
        let mut nothing = CaptureBuffer::new(0);
        nothing.push(b"abc");
        let captured = nothing.finish();
        assert!(captured.bytes.is_empty() && captured.truncated && captured.total_bytes == 3);
    }
}
