//! Signatures and object paths: validation of what the bus sends before it is trusted.

use super::wire::WireError;

/// Nesting limit of the specification (arrays and structs counted separately).
pub(crate) const MAX_DEPTH: usize = 32;
/// Longest signature the specification allows.
const MAX_SIGNATURE: usize = 255;

/// Split a signature into its complete types, validating it.
pub(crate) fn split_signature(signature: &str) -> Result<Vec<String>, WireError> {
    if signature.len() > MAX_SIGNATURE {
        return Err(WireError("signature too long"));
    }
    let bytes = signature.as_bytes();
    let mut types = Vec::new();
    let mut position = 0;
    while position < bytes.len() {
        let end = complete_type_end(bytes, position, 0, 0)?;
        types.push(signature[position..end].to_string());
        position = end;
    }
    Ok(types)
}

pub(crate) fn validate_signature(signature: &str) -> Result<(), WireError> {
    split_signature(signature).map(|_| ())
}

/// The end (exclusive) of the complete type starting at `start`.
fn complete_type_end(
    bytes: &[u8],
    start: usize,
    arrays: usize,
    structs: usize,
) -> Result<usize, WireError> {
    let code = *bytes.get(start).ok_or(WireError("incomplete signature"))?;
    match code {
        b'y' | b'b' | b'n' | b'q' | b'i' | b'u' | b'x' | b't' | b'd' | b'h' | b's' | b'o'
        | b'g' | b'v' => Ok(start + 1),
        b'a' => {
            if arrays >= MAX_DEPTH {
                return Err(WireError("arrays nested too deeply"));
            }
            complete_type_end(bytes, start + 1, arrays + 1, structs)
        }
        b'(' => {
            if structs >= MAX_DEPTH {
                return Err(WireError("structs nested too deeply"));
            }
            let mut position = start + 1;
            if bytes.get(position) == Some(&b')') {
                return Err(WireError("empty struct"));
            }
            while bytes.get(position) != Some(&b')') {
                position = complete_type_end(bytes, position, arrays, structs + 1)?;
            }
            Ok(position + 1)
        }
        b'{' => {
            // Only valid as an array element; the caller's `a` is checked below.
            if start == 0 || bytes[start - 1] != b'a' {
                return Err(WireError("dict entry outside an array"));
            }
            let key = *bytes
                .get(start + 1)
                .ok_or(WireError("incomplete dict entry"))?;
            if !b"ybnqiuxtdhsog".contains(&key) {
                return Err(WireError("dict entry key is not a basic type"));
            }
            let value_end = complete_type_end(bytes, start + 2, arrays, structs + 1)?;
            if bytes.get(value_end) != Some(&b'}') {
                return Err(WireError("dict entry without exactly two fields"));
            }
            Ok(value_end + 1)
        }
        _ => Err(WireError("unknown type code in signature")),
    }
}

/// `/` or `/a/b_c/D1`: elements of `[A-Za-z0-9_]`, no empty element, no trailing `/`.
pub(crate) fn validate_object_path(path: &str) -> Result<(), WireError> {
    if path == "/" {
        return Ok(());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(WireError("object path does not start with /"));
    };
    let valid = rest.split('/').all(|element| {
        !element.is_empty()
            && element
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
    });
    if valid {
        Ok(())
    } else {
        Err(WireError("invalid object path"))
    }
}
