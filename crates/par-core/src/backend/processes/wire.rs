//! The wire protocol of `Processes` mode: an 8-byte magic, then length-prefixed `postcard`
//! frames.
//!
//! The parent sends `Hello` (job name, serialised job, seed, task count) once, then one `Task`
//! message per task; the worker answers `Ready` once, then `Done`, `Panicked` or
//! `MarshalFailed` per task. Anything a worker prints before the magic (a test harness
//! banner, say) is skipped.

use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub(crate) const MAGIC: &[u8; 8] = b"PARCORE\x01";
/// Largest frame accepted (1 GiB): a corrupt length fails cleanly instead of allocating.
pub(crate) const MAX_FRAME: usize = 1 << 30;

/// Serialises a `Vec<u8>` as one byte string (a single copy) instead of element by element:
/// use it on large byte payloads of job outputs with `#[serde(with = "par_core::process::bytes")]`.
pub mod bytes {
    use serde::{Deserializer, Serializer, de};
    use std::fmt;

    /// Writes `v` as a byte string.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    /// Reads a byte string (or a sequence of bytes).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = a.next_element()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_byte_buf(V)
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    Hello {
        job_name: String,
        #[serde(with = "bytes")]
        job: Vec<u8>,
        seed: u64,
        n_tasks: u64,
    },
    Task {
        index: u64,
        attempt: u32,
    },
    Shutdown,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromWorker {
    Ready,
    Done {
        index: u64,
        #[serde(with = "bytes")]
        output: Vec<u8>,
        busy_ns: u64,
        marshal_ns: u64,
    },
    Panicked {
        index: u64,
        message: String,
        busy_ns: u64,
    },
    MarshalFailed {
        index: u64,
        message: String,
        busy_ns: u64,
    },
    Fatal {
        message: String,
    },
}

pub(crate) fn encode<M: Serialize>(msg: &M) -> io::Result<Vec<u8>> {
    let body = postcard::to_stdvec(msg).map_err(io::Error::other)?;
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(
        &u32::try_from(body.len())
            .map_err(io::Error::other)?
            .to_le_bytes(),
    );
    frame.extend_from_slice(&body);
    Ok(frame)
}

/// Writes one frame without first copying it into a buffer of its own.
pub(crate) fn write_msg<W: Write + ?Sized, M: Serialize>(w: &mut W, msg: &M) -> io::Result<()> {
    let body = postcard::to_stdvec(msg).map_err(io::Error::other)?;
    let len = u32::try_from(body.len()).map_err(io::Error::other)?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(&body)?;
    w.flush()
}

/// Reads one frame; `Ok(None)` at a clean end of stream.
pub(crate) fn read_msg<R: Read + ?Sized, M: DeserializeOwned>(r: &mut R) -> io::Result<Option<M>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes"),
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    postcard::from_bytes(&body)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Skips everything up to and including the magic.
pub(crate) fn skip_to_magic<R: Read>(r: &mut R) -> io::Result<bool> {
    let mut window = [0u8; 8];
    let mut filled = 0usize;
    let mut byte = [0u8; 1];
    loop {
        if r.read(&mut byte)? == 0 {
            return Ok(false);
        }
        if filled < 8 {
            window[filled] = byte[0];
            filled += 1;
        } else {
            window.copy_within(1.., 0);
            window[7] = byte[0];
        }
        if filled == 8 && &window == MAGIC {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_magic_is_found_after_noise() {
        let mut buf = b"running 1 test\n".to_vec();
        buf.extend_from_slice(MAGIC);
        buf.extend(
            encode(&FromWorker::Done {
                index: 3,
                output: vec![1, 2, 255],
                busy_ns: 9,
                marshal_ns: 1,
            })
            .unwrap(),
        );
        let mut r = &buf[..];
        assert!(skip_to_magic(&mut r).unwrap());
        match read_msg::<_, FromWorker>(&mut r).unwrap() {
            Some(FromWorker::Done {
                index: 3, output, ..
            }) => assert_eq!(output, vec![1, 2, 255]),
            other => panic!("unexpected {other:?}"),
        }
        assert!(read_msg::<_, FromWorker>(&mut r).unwrap().is_none());
    }

    #[test]
    fn oversized_frames_are_rejected() {
        let mut buf = (u32::MAX).to_le_bytes().to_vec();
        buf.extend_from_slice(&[0; 16]);
        assert!(read_msg::<_, FromWorker>(&mut &buf[..]).is_err());
    }
}
