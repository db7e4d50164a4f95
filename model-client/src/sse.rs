//! An incremental server-sent-events parser (the WHATWG rules): `event:` and multi-line
//! `data:` fields, comments, `id:`/`retry:` ignored, LF / CRLF / CR line ends split anywhere
//! across reads. One record is bounded by a byte limit so a hostile stream cannot grow memory.

use memchr::memchr2;

/// One dispatched record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseRecord<'a> {
    /// The `event:` field, when one was given.
    pub event: Option<&'a str>,
    /// The `data:` lines joined with `\n`.
    pub data: &'a [u8],
}

/// A record (or a line) grew past the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordTooLarge {
    pub limit: usize,
}

/// Feed bytes in, get records out.
#[derive(Debug)]
pub struct SseParser {
    /// A line split across reads.
    partial: Vec<u8>,
    data: Vec<u8>,
    event: String,
    has_event: bool,
    has_data: bool,
    /// The last read ended in `\r`: a leading `\n` of the next read belongs to it.
    skip_lf: bool,
    limit: usize,
}

impl SseParser {
    /// A parser whose records (data plus the current line) stay within `limit` bytes.
    pub fn new(limit: usize) -> SseParser {
        SseParser {
            partial: Vec::new(),
            data: Vec::new(),
            event: String::new(),
            has_event: false,
            has_data: false,
            skip_lf: false,
            limit,
        }
    }

    /// Parse `input`, calling `sink` for every complete record. Stops at the first record over
    /// the limit.
    pub fn feed(
        &mut self,
        mut input: &[u8],
        sink: &mut dyn FnMut(SseRecord<'_>),
    ) -> Result<(), RecordTooLarge> {
        if self.skip_lf && !input.is_empty() {
            if input[0] == b'\n' {
                input = &input[1..];
            }
            self.skip_lf = false;
        }
        while !input.is_empty() {
            let Some(end) = memchr2(b'\n', b'\r', input) else {
                self.partial.extend_from_slice(input);
                return self.check(0);
            };
            if self.partial.is_empty() {
                self.line(&input[..end], sink)?;
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&input[..end]);
                let result = self.line(&line, sink);
                line.clear();
                self.partial = line;
                result?;
            }
            let terminator = input[end];
            input = &input[end + 1..];
            if terminator == b'\r' {
                match input.first() {
                    Some(b'\n') => input = &input[1..],
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
        }
        Ok(())
    }

    fn check(&self, extra: usize) -> Result<(), RecordTooLarge> {
        if self.partial.len() + self.data.len() + extra > self.limit {
            Err(RecordTooLarge { limit: self.limit })
        } else {
            Ok(())
        }
    }

    fn line(
        &mut self,
        line: &[u8],
        sink: &mut dyn FnMut(SseRecord<'_>),
    ) -> Result<(), RecordTooLarge> {
        if line.is_empty() {
            self.dispatch(sink);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                self.check(value.len() + 1)?;
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => {
                self.check(value.len())?;
                self.event.clear();
                self.event.push_str(&String::from_utf8_lossy(value));
                self.has_event = true;
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, sink: &mut dyn FnMut(SseRecord<'_>)) {
        if self.has_data {
            sink(SseRecord {
                event: self.has_event.then_some(self.event.as_str()),
                data: &self.data,
            });
        }
        self.data.clear();
        self.has_data = false;
        self.has_event = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(
        chunks: &[&[u8]],
        limit: usize,
    ) -> Result<Vec<(Option<String>, String)>, RecordTooLarge> {
        let mut parser = SseParser::new(limit);
        let mut out = Vec::new();
        for chunk in chunks {
            parser.feed(chunk, &mut |record| {
                out.push((
                    record.event.map(str::to_string),
                    String::from_utf8_lossy(record.data).into_owned(),
                ));
            })?;
        }
        Ok(out)
    }

    fn whole(text: &str) -> Vec<(Option<String>, String)> {
        records(&[text.as_bytes()], 1 << 20).unwrap()
    }

    #[test]
    fn event_lines_multi_line_data_and_comments() {
        assert_eq!(
            whole(
                ": keep-alive\nevent: response.created\ndata: {\"a\":\ndata:1}\nid: 7\nretry: 10\n\ndata: x\n\n"
            ),
            vec![
                (Some("response.created".into()), "{\"a\":\n1}".into()),
                (None, "x".into()),
            ]
        );
    }

    #[test]
    fn crlf_and_lone_cr_line_ends() {
        let expected = vec![(Some("e".into()), "1".into()), (None, "2".into())];
        assert_eq!(
            whole("event: e\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n"),
            expected
        );
        assert_eq!(whole("event: e\rdata: 1\r\rdata: 2\r\r"), expected);
    }

    #[test]
    fn records_split_at_every_byte_boundary() {
        let text = "event: a\r\ndata: one\r\ndata: two\r\n\r\n: c\ndata:three\n\n";
        let expected = whole(text);
        assert_eq!(expected.len(), 2);
        let bytes = text.as_bytes();
        for split in 0..bytes.len() {
            let (left, right) = bytes.split_at(split);
            assert_eq!(
                records(&[left, right], 1 << 20).unwrap(),
                expected,
                "split {split}"
            );
        }
        let single: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(records(&single, 1 << 20).unwrap(), expected);
    }

    #[test]
    fn empty_records_and_trailing_partial_record_are_not_dispatched() {
        assert_eq!(whole("event: only\n\n\n\ndata: tail"), vec![]);
        assert_eq!(whole("data\n\n"), vec![(None, "".into())]);
    }

    #[test]
    fn records_over_the_limit_are_refused() {
        assert_eq!(
            records(&[b"data: 12345\n\n"], 4),
            Err(RecordTooLarge { limit: 4 })
        );
        // A line that never ends is refused once it is over the limit.
        let mut parser = SseParser::new(16);
        let mut sink = |_: SseRecord<'_>| {};
        assert!(parser.feed(&[b'x'; 10], &mut sink).is_ok());
        assert!(parser.feed(&[b'x'; 10], &mut sink).is_err());
        // Many lines that together exceed the limit are refused too.
        assert!(records(&[b"data: 1234\ndata: 1234\ndata: 1234\n\n"], 12).is_err());
        assert_eq!(
            records(&[b"data: 1234\n\ndata: 1234\n\n"], 12)
                .unwrap()
                .len(),
            2
        );
    }
}
