//! D-Bus values and their wire format (marshalling and unmarshalling, both byte orders).
//!
//! Everything read from the socket is hostile: every length is bounds-checked, strings must be
//! UTF-8 without NUL, object paths and signatures are validated, and nesting is limited to the
//! specification's 32 arrays plus 32 structs.

use std::fmt;

use super::signature::{MAX_DEPTH, split_signature, validate_object_path, validate_signature};

/// A D-Bus value. Arrays carry their element signature so an empty array still has a type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Byte(u8),
    Bool(bool),
    Int16(i16),
    UInt16(u16),
    Int32(i32),
    UInt32(u32),
    Int64(i64),
    UInt64(u64),
    Double(f64),
    UnixFd(u32),
    Str(String),
    ObjectPath(String),
    Signature(String),
    /// `ay`, kept as bytes.
    Bytes(Vec<u8>),
    Array {
        element: String,
        items: Vec<Value>,
    },
    Struct(Vec<Value>),
    DictEntry(Box<Value>, Box<Value>),
    Variant(Box<Value>),
}

/// A message body or value that does not follow the wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError(pub &'static str);

impl fmt::Display for WireError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "malformed D-Bus data: {}", self.0)
    }
}

impl Value {
    pub fn str(text: &str) -> Value {
        Value::Str(text.to_string())
    }

    pub fn path(path: &str) -> Value {
        Value::ObjectPath(path.to_string())
    }

    pub fn variant(value: Value) -> Value {
        Value::Variant(Box::new(value))
    }

    /// `a{ss}` from pairs.
    pub fn string_dict(pairs: &[(&str, &str)]) -> Value {
        Value::Array {
            element: "{ss}".to_string(),
            items: pairs
                .iter()
                .map(|(key, value)| {
                    Value::DictEntry(Box::new(Value::str(key)), Box::new(Value::str(value)))
                })
                .collect(),
        }
    }

    /// The single complete type of this value.
    pub fn signature(&self) -> String {
        match self {
            Value::Byte(_) => "y".into(),
            Value::Bool(_) => "b".into(),
            Value::Int16(_) => "n".into(),
            Value::UInt16(_) => "q".into(),
            Value::Int32(_) => "i".into(),
            Value::UInt32(_) => "u".into(),
            Value::Int64(_) => "x".into(),
            Value::UInt64(_) => "t".into(),
            Value::Double(_) => "d".into(),
            Value::UnixFd(_) => "h".into(),
            Value::Str(_) => "s".into(),
            Value::ObjectPath(_) => "o".into(),
            Value::Signature(_) => "g".into(),
            Value::Bytes(_) => "ay".into(),
            Value::Array { element, .. } => format!("a{element}"),
            Value::Struct(fields) => {
                let inner: String = fields.iter().map(Value::signature).collect();
                format!("({inner})")
            }
            Value::DictEntry(key, value) => {
                format!("{{{}{}}}", key.signature(), value.signature())
            }
            Value::Variant(_) => "v".into(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(text) | Value::ObjectPath(text) | Value::Signature(text) => Some(text),
            _ => None,
        }
    }

    /// The items of an array (`Bytes` is not an item list).
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array { items, .. } => Some(items),
            _ => None,
        }
    }

    pub fn as_struct(&self) -> Option<&[Value]> {
        match self {
            Value::Struct(fields) => Some(fields),
            _ => None,
        }
    }

    /// The value inside a variant (any other value as itself).
    pub fn unwrap_variant(&self) -> &Value {
        match self {
            Value::Variant(inner) => inner.unwrap_variant(),
            other => other,
        }
    }
}

fn alignment(code: u8) -> usize {
    match code {
        b'y' | b'g' | b'v' => 1,
        b'n' | b'q' => 2,
        b'x' | b't' | b'd' | b'(' | b'{' => 8,
        _ => 4,
    }
}

/// Appends values; offsets are relative to the start of the buffer, which must sit at an
/// 8-byte boundary of the message (the header and the body both do).
#[derive(Default)]
pub(crate) struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    fn pad(&mut self, align: usize) {
        while !self.bytes.len().is_multiple_of(align) {
            self.bytes.push(0);
        }
    }

    pub fn u32(&mut self, value: u32) {
        self.pad(4);
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    fn string(&mut self, text: &str) {
        self.u32(u32::try_from(text.len()).unwrap_or(u32::MAX));
        self.bytes.extend_from_slice(text.as_bytes());
        self.bytes.push(0);
    }

    fn signature(&mut self, text: &str) {
        self.bytes.push(u8::try_from(text.len()).unwrap_or(u8::MAX));
        self.bytes.extend_from_slice(text.as_bytes());
        self.bytes.push(0);
    }

    /// Marshal `value` (little-endian).
    pub fn value(&mut self, value: &Value) {
        match value {
            Value::Byte(byte) => self.bytes.push(*byte),
            Value::Bool(flag) => self.u32(u32::from(*flag)),
            Value::Int16(number) => {
                self.pad(2);
                self.bytes.extend_from_slice(&number.to_le_bytes());
            }
            Value::UInt16(number) => {
                self.pad(2);
                self.bytes.extend_from_slice(&number.to_le_bytes());
            }
            Value::Int32(number) => {
                self.pad(4);
                self.bytes.extend_from_slice(&number.to_le_bytes());
            }
            Value::UInt32(number) | Value::UnixFd(number) => self.u32(*number),
            Value::Int64(number) => {
                self.pad(8);
                self.bytes.extend_from_slice(&number.to_le_bytes());
            }
            Value::UInt64(number) => {
                self.pad(8);
                self.bytes.extend_from_slice(&number.to_le_bytes());
            }
            Value::Double(number) => {
                self.pad(8);
                self.bytes.extend_from_slice(&number.to_le_bytes());
            }
            Value::Str(text) | Value::ObjectPath(text) => self.string(text),
            Value::Signature(text) => self.signature(text),
            Value::Bytes(bytes) => {
                self.u32(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
                self.bytes.extend_from_slice(bytes);
            }
            Value::Array { element, items } => {
                self.pad(4);
                let length_at = self.bytes.len();
                self.bytes.extend_from_slice(&[0; 4]);
                self.pad(alignment(
                    element.as_bytes().first().copied().unwrap_or(b'y'),
                ));
                let start = self.bytes.len();
                for item in items {
                    self.value(item);
                }
                let length = u32::try_from(self.bytes.len() - start).unwrap_or(u32::MAX);
                self.bytes[length_at..length_at + 4].copy_from_slice(&length.to_le_bytes());
            }
            Value::Struct(fields) => {
                self.pad(8);
                for field in fields {
                    self.value(field);
                }
            }
            Value::DictEntry(key, value) => {
                self.pad(8);
                self.value(key);
                self.value(value);
            }
            Value::Variant(inner) => {
                self.signature(&inner.signature());
                self.value(inner);
            }
        }
    }
}

/// Reads values from a received buffer in either byte order. Offsets are relative to the
/// buffer start (8-byte aligned in the message).
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
    big_endian: bool,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], big_endian: bool) -> Reader<'a> {
        Reader {
            bytes,
            position: 0,
            big_endian,
        }
    }

    pub fn position(&self) -> usize {
        self.position
    }

    pub fn at_end(&self) -> bool {
        self.position == self.bytes.len()
    }

    pub fn align(&mut self, align: usize) -> Result<(), WireError> {
        let padded = self.position.next_multiple_of(align);
        let padding = self
            .bytes
            .get(self.position..padded)
            .ok_or(WireError("truncated padding"))?;
        if padding.iter().any(|byte| *byte != 0) {
            return Err(WireError("non-zero padding"));
        }
        self.position = padded;
        Ok(())
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .position
            .checked_add(count)
            .ok_or(WireError("length overflow"))?;
        let slice = self
            .bytes
            .get(self.position..end)
            .ok_or(WireError("truncated value"))?;
        self.position = end;
        Ok(slice)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        self.align(N)?;
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        if self.big_endian {
            array.reverse();
        }
        Ok(array)
    }

    pub fn u32(&mut self) -> Result<u32, WireError> {
        self.fixed::<4>().map(u32::from_le_bytes)
    }

    fn text(&mut self, length: usize) -> Result<String, WireError> {
        let bytes = self.take(length)?;
        if self.take(1)? != [0] {
            return Err(WireError("string without its NUL terminator"));
        }
        if bytes.contains(&0) {
            return Err(WireError("NUL inside a string"));
        }
        String::from_utf8(bytes.to_vec()).map_err(|_| WireError("string is not UTF-8"))
    }

    fn signature_text(&mut self) -> Result<String, WireError> {
        let length = usize::from(self.take(1)?[0]);
        let text = self.text(length)?;
        validate_signature(&text)?;
        Ok(text)
    }

    /// Read every complete type of `signature` in order.
    pub fn values(&mut self, signature: &str) -> Result<Vec<Value>, WireError> {
        let types = split_signature(signature)?;
        types.iter().map(|code| self.value(code, 0, 0)).collect()
    }

    /// Read one value of the single complete type `code`.
    fn value(&mut self, code: &str, arrays: usize, structs: usize) -> Result<Value, WireError> {
        let first = code
            .as_bytes()
            .first()
            .copied()
            .ok_or(WireError("empty type"))?;
        Ok(match first {
            b'y' => Value::Byte(self.take(1)?[0]),
            b'b' => match self.u32()? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                _ => return Err(WireError("boolean other than 0 or 1")),
            },
            b'n' => Value::Int16(self.fixed::<2>().map(i16::from_le_bytes)?),
            b'q' => Value::UInt16(self.fixed::<2>().map(u16::from_le_bytes)?),
            b'i' => Value::Int32(self.fixed::<4>().map(i32::from_le_bytes)?),
            b'u' => Value::UInt32(self.u32()?),
            b'h' => Value::UnixFd(self.u32()?),
            b'x' => Value::Int64(self.fixed::<8>().map(i64::from_le_bytes)?),
            b't' => Value::UInt64(self.fixed::<8>().map(u64::from_le_bytes)?),
            b'd' => Value::Double(self.fixed::<8>().map(f64::from_le_bytes)?),
            b's' | b'o' => {
                let length = usize::try_from(self.u32()?).map_err(|_| WireError("length"))?;
                let text = self.text(length)?;
                if first == b'o' {
                    validate_object_path(&text)?;
                    Value::ObjectPath(text)
                } else {
                    Value::Str(text)
                }
            }
            b'g' => Value::Signature(self.signature_text()?),
            b'v' => {
                if arrays + structs >= 2 * MAX_DEPTH {
                    return Err(WireError("variants nested too deeply"));
                }
                let signature = self.signature_text()?;
                let types = split_signature(&signature)?;
                let [inner] = types.as_slice() else {
                    return Err(WireError("variant signature is not one complete type"));
                };
                Value::Variant(Box::new(self.value(inner, arrays, structs + 1)?))
            }
            b'a' => {
                if arrays >= MAX_DEPTH {
                    return Err(WireError("arrays nested too deeply"));
                }
                let element = &code[1..];
                let length = usize::try_from(self.u32()?).map_err(|_| WireError("length"))?;
                let element_code = element.as_bytes().first().copied().unwrap_or(b'y');
                self.align(alignment(element_code))?;
                let end = self
                    .position
                    .checked_add(length)
                    .filter(|end| *end <= self.bytes.len())
                    .ok_or(WireError("array longer than the message"))?;
                if element == "y" {
                    return Ok(Value::Bytes(self.take(length)?.to_vec()));
                }
                let mut items = Vec::new();
                while self.position < end {
                    items.push(self.value(element, arrays + 1, structs)?);
                }
                if self.position != end {
                    return Err(WireError("array element crosses the array end"));
                }
                Value::Array {
                    element: element.to_string(),
                    items,
                }
            }
            b'(' | b'{' => {
                if structs >= MAX_DEPTH {
                    return Err(WireError("structs nested too deeply"));
                }
                self.align(8)?;
                let inner = &code[1..code.len() - 1];
                let mut fields = Vec::new();
                for field in split_signature(inner)? {
                    fields.push(self.value(&field, arrays, structs + 1)?);
                }
                if first == b'(' {
                    Value::Struct(fields)
                } else {
                    let mut fields = fields.into_iter();
                    match (fields.next(), fields.next(), fields.next()) {
                        (Some(key), Some(value), None) => {
                            Value::DictEntry(Box::new(key), Box::new(value))
                        }
                        _ => return Err(WireError("dict entry without exactly two fields")),
                    }
                }
            }
            _ => return Err(WireError("unknown type code")),
        })
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
