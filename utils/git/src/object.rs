//! Object ids of blobs: the hash of `blob <length>\0<contents>`.

use ring::digest;

/// The repository's hash function (`extensions.objectformat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ObjectFormat {
    #[default]
    Sha1,
    Sha256,
}

impl ObjectFormat {
    /// Length of an object id in bytes.
    pub fn id_length(self) -> usize {
        match self {
            ObjectFormat::Sha1 => 20,
            ObjectFormat::Sha256 => 32,
        }
    }
}

/// The object id git gives a blob with `contents`.
pub fn blob_id(contents: &[u8], format: ObjectFormat) -> Vec<u8> {
    let algorithm = match format {
        ObjectFormat::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        ObjectFormat::Sha256 => &digest::SHA256,
    };
    let mut context = digest::Context::new(algorithm);
    context.update(format!("blob {}\0", contents.len()).as_bytes());
    context.update(contents);
    context.finish().as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    #[test]
    fn matches_git_hash_object() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            hex(&blob_id(b"hello\n", ObjectFormat::Sha1)),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        // The empty blob, in both formats.
        assert_eq!(
            hex(&blob_id(b"", ObjectFormat::Sha1)),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
        assert_eq!(
            hex(&blob_id(b"", ObjectFormat::Sha256)),
            "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813"
        );
    }
}
