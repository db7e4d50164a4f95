use super::*;
use crate::dbus::message::{Message, MessageType};
use crate::dbus::signature::split_signature;

fn round_trip(value: Value) {
    let mut writer = Writer::default();
    writer.value(&value);
    let mut reader = Reader::new(&writer.bytes, false);
    let read = reader.values(&value.signature()).unwrap();
    assert_eq!(read, [value]);
    assert!(reader.at_end());
}

#[test]
fn values_round_trip() {
    round_trip(Value::str("héllo"));
    round_trip(Value::path("/org/freedesktop/secrets/collection/login/1"));
    round_trip(Value::Bytes(b"{\"a\":1}".to_vec()));
    round_trip(Value::string_dict(&[
        ("service", "Codex Auth"),
        ("username", "cli|1"),
    ]));
    round_trip(Value::Struct(vec![
        Value::path("/s"),
        Value::Bytes(Vec::new()),
        Value::Bytes(b"secret".to_vec()),
        Value::str("text/plain"),
    ]));
    round_trip(Value::Array {
        element: "{sv}".into(),
        items: vec![Value::DictEntry(
            Box::new(Value::str("Label")),
            Box::new(Value::variant(Value::str("x"))),
        )],
    });
    round_trip(Value::Array {
        element: "o".into(),
        items: Vec::new(),
    });
    round_trip(Value::Struct(vec![
        Value::Byte(1),
        Value::Bool(true),
        Value::Int16(-2),
        Value::UInt16(3),
        Value::Int32(-4),
        Value::UInt64(5),
        Value::Int64(-6),
        Value::Double(0.5),
    ]));
}

#[test]
fn encodes_the_specification_layout() {
    // `(yu)` pads the u32 to offset 4; an array of u32 counts only element bytes.
    let mut writer = Writer::default();
    writer.value(&Value::Struct(vec![Value::Byte(7), Value::UInt32(1)]));
    assert_eq!(writer.bytes, [7, 0, 0, 0, 1, 0, 0, 0]);
    let mut writer = Writer::default();
    writer.value(&Value::Array {
        element: "t".into(),
        items: vec![Value::UInt64(1)],
    });
    assert_eq!(
        writer.bytes,
        [8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn messages_round_trip_in_both_byte_orders() {
    let call = Message::method_call(
        "org.freedesktop.secrets",
        "/org/freedesktop/secrets",
        "org.freedesktop.Secret.Service",
        "OpenSession",
        vec![Value::str("plain"), Value::variant(Value::str(""))],
    );
    let bytes = call.encode(7);
    let decoded = Message::decode(&bytes).unwrap();
    assert_eq!(decoded.serial, 7);
    assert_eq!(decoded.kind, MessageType::MethodCall);
    assert_eq!(decoded.member.as_deref(), Some("OpenSession"));
    assert_eq!(decoded.body, call.body);

    // The same `Hello` call written big-endian by hand.
    let mut big = vec![b'B', 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9];
    let mut fields: Vec<u8> = Vec::new();
    for (code, signature, text) in [(1u8, b'o', "/org/freedesktop/DBus"), (3, b's', "Hello")] {
        while !fields.len().is_multiple_of(8) {
            fields.push(0);
        }
        fields.extend_from_slice(&[code, 1, signature, 0]);
        fields.extend_from_slice(&u32::try_from(text.len()).unwrap().to_be_bytes());
        fields.extend_from_slice(text.as_bytes());
        fields.push(0);
    }
    big.extend_from_slice(&u32::try_from(fields.len()).unwrap().to_be_bytes());
    big.extend_from_slice(&fields);
    while !big.len().is_multiple_of(8) {
        big.push(0);
    }
    let hello = Message::decode(&big).unwrap();
    assert_eq!(hello.serial, 9);
    assert_eq!(hello.path.as_deref(), Some("/org/freedesktop/DBus"));
    assert_eq!(hello.member.as_deref(), Some("Hello"));
}

#[test]
fn hostile_bytes_are_errors_not_panics() {
    let valid = Message::method_call("a.b", "/", "a.b", "M", vec![Value::str("x")]).encode(1);
    for cut in 0..valid.len() {
        assert!(Message::decode(&valid[..cut]).is_err(), "cut at {cut}");
    }
    for index in 0..valid.len() {
        for byte in [0u8, 0xff, b'a', 0x80] {
            let mut corrupt = valid.clone();
            corrupt[index] = byte;
            let _ = Message::decode(&corrupt);
        }
    }
    // Lengths that point past the end, or ask for more than the limit.
    let mut huge = valid.clone();
    huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(Message::decode(&huge).is_err());
    let mut reader = Reader::new(&[0xff, 0xff, 0xff, 0x7f], false);
    assert!(reader.values("s").is_err());
    let mut reader = Reader::new(&[2, 0, 0, 0, b'a', 0, 0], false);
    assert_eq!(
        reader.values("s").unwrap_err(),
        WireError("NUL inside a string")
    );
    let mut reader = Reader::new(&[3, 0, 0, 0, b'/', b'a', b'/', 0], false);
    assert_eq!(
        reader.values("o").unwrap_err(),
        WireError("invalid object path")
    );
    let mut reader = Reader::new(&[2, 0, 0, 0], false);
    assert!(reader.values("b").is_err());
}

#[test]
fn signatures_are_validated_and_nesting_is_bounded() {
    assert_eq!(
        split_signature("sa{sv}(oayays)v").unwrap(),
        ["s", "a{sv}", "(oayays)", "v"]
    );
    for bad in ["a", "(", "()", "{ss}", "a{vs}", "a{sss}", "z", "(s"] {
        assert!(split_signature(bad).is_err(), "{bad}");
    }
    let deep = format!("{}y", "a".repeat(33));
    assert!(split_signature(&deep).is_err());
    let deep_structs = format!("{}y{}", "(".repeat(33), ")".repeat(33));
    assert!(split_signature(&deep_structs).is_err());
    assert!(split_signature(&"y".repeat(256)).is_err());
    // A variant holding variants: each level is one signature byte plus its type.
    let mut nested = Vec::new();
    for _ in 0..100 {
        nested.extend_from_slice(&[1, b'v', 0]);
    }
    nested.extend_from_slice(&[1, b'y', 0, 7]);
    let mut reader = Reader::new(&nested, false);
    assert_eq!(
        reader.values("v").unwrap_err(),
        WireError("variants nested too deeply")
    );
}
