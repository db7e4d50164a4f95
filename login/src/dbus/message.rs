//! D-Bus messages: the fixed header, header fields and body.

use super::wire::{Reader, Value, WireError, Writer};

/// Largest message read from the bus (the specification allows 128 MiB; nothing this client
/// asks for comes near 1 MiB).
pub(crate) const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// Bytes of the fixed header plus the header-field array length.
pub(crate) const FIXED_HEADER_BYTES: usize = 16;

const PROTOCOL_VERSION: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageType {
    MethodCall,
    MethodReturn,
    Error,
    Signal,
}

impl MessageType {
    fn code(self) -> u8 {
        match self {
            MessageType::MethodCall => 1,
            MessageType::MethodReturn => 2,
            MessageType::Error => 3,
            MessageType::Signal => 4,
        }
    }

    fn from_code(code: u8) -> Option<MessageType> {
        match code {
            1 => Some(MessageType::MethodCall),
            2 => Some(MessageType::MethodReturn),
            3 => Some(MessageType::Error),
            4 => Some(MessageType::Signal),
            _ => None,
        }
    }
}

/// A message to send or one that was received.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    pub kind: MessageType,
    pub serial: u32,
    pub path: Option<String>,
    pub interface: Option<String>,
    pub member: Option<String>,
    pub error_name: Option<String>,
    pub reply_serial: Option<u32>,
    pub destination: Option<String>,
    pub sender: Option<String>,
    pub body: Vec<Value>,
}

impl Message {
    /// A method call (replies expected, auto-start allowed).
    pub fn method_call(
        destination: &str,
        path: &str,
        interface: &str,
        member: &str,
        body: Vec<Value>,
    ) -> Message {
        Message {
            kind: MessageType::MethodCall,
            serial: 0,
            path: Some(path.to_string()),
            interface: Some(interface.to_string()),
            member: Some(member.to_string()),
            error_name: None,
            reply_serial: None,
            destination: Some(destination.to_string()),
            sender: None,
            body,
        }
    }

    /// The wire bytes of this message with `serial` (little-endian).
    pub fn encode(&self, serial: u32) -> Vec<u8> {
        let mut body = Writer::default();
        for value in &self.body {
            body.value(value);
        }
        let signature: String = self.body.iter().map(Value::signature).collect();

        let mut fields = Vec::new();
        let mut field = |code: u8, value: Value| {
            fields.push(Value::Struct(vec![
                Value::Byte(code),
                Value::variant(value),
            ]));
        };
        if let Some(path) = &self.path {
            field(1, Value::path(path));
        }
        if let Some(interface) = &self.interface {
            field(2, Value::str(interface));
        }
        if let Some(member) = &self.member {
            field(3, Value::str(member));
        }
        if let Some(name) = &self.error_name {
            field(4, Value::str(name));
        }
        if let Some(reply_serial) = self.reply_serial {
            field(5, Value::UInt32(reply_serial));
        }
        if let Some(destination) = &self.destination {
            field(6, Value::str(destination));
        }
        if !signature.is_empty() {
            field(8, Value::Signature(signature));
        }

        let mut header = Writer::default();
        header
            .bytes
            .extend_from_slice(&[b'l', self.kind.code(), 0, PROTOCOL_VERSION]);
        header.u32(u32::try_from(body.bytes.len()).unwrap_or(u32::MAX));
        header.u32(serial);
        header.value(&Value::Array {
            element: "(yv)".to_string(),
            items: fields,
        });
        let mut bytes = header.bytes;
        while !bytes.len().is_multiple_of(8) {
            bytes.push(0);
        }
        bytes.extend_from_slice(&body.bytes);
        bytes
    }

    /// The total length of the message whose first [`FIXED_HEADER_BYTES`] are `start`.
    pub fn total_length(start: &[u8]) -> Result<usize, WireError> {
        let big_endian = match start.first() {
            Some(b'l') => false,
            Some(b'B') => true,
            _ => return Err(WireError("unknown byte order")),
        };
        if start.len() < FIXED_HEADER_BYTES {
            return Err(WireError("truncated header"));
        }
        let read = |offset: usize| {
            let mut word = [0u8; 4];
            word.copy_from_slice(&start[offset..offset + 4]);
            if big_endian {
                u32::from_be_bytes(word)
            } else {
                u32::from_le_bytes(word)
            }
        };
        let body = usize::try_from(read(4)).map_err(|_| WireError("length"))?;
        let fields = usize::try_from(read(12)).map_err(|_| WireError("length"))?;
        let total = FIXED_HEADER_BYTES
            .checked_add(fields)
            .map(|length| length.next_multiple_of(8))
            .and_then(|length| length.checked_add(body))
            .ok_or(WireError("length overflow"))?;
        if total > MAX_MESSAGE_BYTES {
            return Err(WireError("message larger than 1 MiB"));
        }
        Ok(total)
    }

    /// Parse one complete message.
    pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
        let total = Message::total_length(bytes)?;
        if bytes.len() != total {
            return Err(WireError("message length does not match its header"));
        }
        let big_endian = bytes[0] == b'B';
        let kind = MessageType::from_code(bytes[1]).ok_or(WireError("unknown message type"))?;
        if bytes[3] != PROTOCOL_VERSION {
            return Err(WireError("unsupported protocol version"));
        }
        let mut reader = Reader::new(bytes, big_endian);
        reader.values("yyyyuu")?;
        let fields = reader.values("a(yv)")?;
        reader.align(8)?;
        let body_start = reader.position();
        let mut message = Message {
            kind,
            serial: 0,
            path: None,
            interface: None,
            member: None,
            error_name: None,
            reply_serial: None,
            destination: None,
            sender: None,
            body: Vec::new(),
        };
        let mut header = Reader::new(&bytes[8..12], big_endian);
        message.serial = header.u32()?;
        let mut signature = String::new();
        for field in fields.first().and_then(Value::as_array).unwrap_or_default() {
            let Some([Value::Byte(code), value]) = field.as_struct() else {
                return Err(WireError("header field is not (yv)"));
            };
            let value = value.unwrap_variant();
            let text = || value.as_str().map(str::to_string);
            match code {
                1 => message.path = text(),
                2 => message.interface = text(),
                3 => message.member = text(),
                4 => message.error_name = text(),
                5 => {
                    if let Value::UInt32(serial) = value {
                        message.reply_serial = Some(*serial);
                    }
                }
                6 => message.destination = text(),
                7 => message.sender = text(),
                8 => signature = text().unwrap_or_default(),
                9 if !matches!(value, Value::UInt32(0)) => {
                    return Err(WireError("unix file descriptors were not negotiated"));
                }
                _ => {}
            }
        }
        if message.serial == 0 {
            return Err(WireError("serial 0"));
        }
        let mut body = Reader::new(&bytes[body_start..], big_endian);
        message.body = body.values(&signature)?;
        if !body.at_end() {
            return Err(WireError("body longer than its signature"));
        }
        Ok(message)
    }

    /// The first string of an error reply's body (its human-readable text).
    pub fn error_text(&self) -> String {
        self.body
            .first()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
}
