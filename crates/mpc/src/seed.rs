//! The official seed rule: a segment's random seed derived from an MD5 digest of its key.
//!
//! MD5 (RFC 1321, from the RustCrypto `md-5` crate) is not used for anything security-related
//! here: the official tinyphysics simulator seeds its random generator with
//! `int(md5(path).hexdigest(), 16) % 10_000`, and reproducing its draws needs the same digest.

use md5::{Digest, Md5};

/// The 16-byte MD5 digest of `data`.
///
/// ```
/// let hex: String = mpc::seed::md5_digest(b"abc").iter().map(|b| format!("{b:02x}")).collect();
/// assert_eq!(hex, "900150983cd24fb0d6963f7d28e17f72");
/// ```
pub fn md5_digest(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// The official seed rule: the MD5 digest of `key` read as a big-endian 128-bit integer, modulo
/// 10,000 (`int(hashlib.md5(key.encode()).hexdigest(), 16) % 10**4` in the official simulator).
///
/// ```
/// assert_eq!(mpc::seed::seed_from_key("data/00000.csv"), 3285);
/// assert_eq!(mpc::seed::seed_from_key("./data/00000.csv"), 3963);
/// ```
pub fn seed_from_key(key: &str) -> u32 {
    let value = u128::from_be_bytes(md5_digest(key.as_bytes()));
    (value % 10_000) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: [u8; 16]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc1321_vectors() {
        assert_eq!(hex(md5_digest(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(md5_digest(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(md5_digest(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            )),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
        assert_eq!(
            hex(md5_digest(b"The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
    }

    #[test]
    fn official_seeds() {
        assert_eq!(seed_from_key("data/00000.csv"), 3285);
        assert_eq!(seed_from_key("data/00001.csv"), 9739);
        assert_eq!(seed_from_key("./data/00000.csv"), 3963);
    }
}
