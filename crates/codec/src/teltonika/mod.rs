//! Teltonika: Codec 8, 8 Extended and 16 (AVL data) and Codec 12 (commands), over TCP and UDP.
//!
//! Source: Teltonika's wiki, "Codec" (<https://wiki.teltonika-gps.com/view/Codec>), and
//! `shared/protocols.md`. All integers are big-endian.
//!
//! Decoding has two layers:
//! - *framing* ([`next_frame`]): bytes buffered from a TCP stream → a login, a keep-alive or one
//!   complete data frame whose CRC matched, with the number of bytes consumed;
//! - *format* ([`parse_payload`], [`AvlPacket`]): a frame's data field → records. The structure
//!   is validated once, completely, before a single record is handed out; then records and IO
//!   elements are read straight from the borrowed bytes without allocating ([`RecordView`]),
//!   or copied into owned [`Record`]s.
//!
//! Architecture Invariant: no count read from the input sizes an allocation before the bytes
//! it counts have been seen. Owned vectors are allocated only after validation, with the
//! validated counts.

mod avl;
mod crc;
mod encode;
mod io_dict;
mod json;
mod record;

pub use avl::{
    AvlPacket, GprsKind, GprsMessage, IoElements, IoValueRef, Payload, RecordView, Records,
    UdpPacket, parse_payload, parse_udp,
};
pub use crc::crc16;
pub use encode::{
    EncodeError, encode_gprs, encode_login, encode_payload, encode_tcp_frame, encode_udp_packet,
};
pub use io_dict::{field_kind, io_name};
pub use json::decode_json;
pub use record::{IoValue, Record};

use domain::Imei;

/// The answer to a login that is accepted.
pub const LOGIN_ACCEPT: u8 = 0x01;
/// The answer to a login that is refused (unknown device).
pub const LOGIN_REJECT: u8 = 0x00;
/// A frame a device sends is at most 1,280 bytes on most devices; this default cap leaves room
/// for larger firmware buffers while bounding what one peer can make us hold.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024;

/// The codecs Sporvern reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Codec 8 (0x08): 1-byte IO ids and counts.
    Codec8,
    /// Codec 8 Extended (0x8E): 2-byte IO ids and counts, variable-length (NX) values.
    Codec8E,
    /// Codec 16 (0x10): 2-byte IO ids, generation type.
    Codec16,
    /// Codec 12 (0x0C): GPRS commands and responses.
    Codec12,
}

impl Codec {
    pub const fn id(self) -> u8 {
        match self {
            Codec::Codec8 => 0x08,
            Codec::Codec8E => 0x8E,
            Codec::Codec16 => 0x10,
            Codec::Codec12 => 0x0C,
        }
    }

    pub const fn from_id(id: u8) -> Option<Codec> {
        match id {
            0x08 => Some(Codec::Codec8),
            0x8E => Some(Codec::Codec8E),
            0x10 => Some(Codec::Codec16),
            0x0C => Some(Codec::Codec12),
            _ => None,
        }
    }

    /// The name integrators know it by: `8`, `8E`, `16`, `12`.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Codec8 => "8",
            Codec::Codec8E => "8E",
            Codec::Codec16 => "16",
            Codec::Codec12 => "12",
        }
    }
}

/// Why bytes could not be decoded. Byte offsets count from the start of the TCP frame (the
/// preamble) or of the UDP datagram.
///
/// [`DecodeError::can_continue`] says whether the connection can go on: a frame that was
/// delimited (its length was read) can be skipped and answered with a count of 0, so the
/// device sends its records again; a bad header leaves no way to find the next frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("bad preamble: expected 00000000, found {found:08x}; the next frame cannot be found")]
    BadPreamble { found: u32 },
    #[error("frame of {frame_len} bytes (data length {data_len}) is over the limit of {max} bytes")]
    FrameTooLong {
        data_len: u32,
        frame_len: u64,
        max: usize,
    },
    #[error(
        "data length {data_len} is too short: a data frame holds at least a codec id and two record counts (3 bytes)"
    )]
    FrameTooShort { data_len: u32 },
    #[error("bad login: {reason}")]
    BadLogin { reason: String },
    #[error("CRC mismatch: frame says 0x{found:04x}, computed 0x{computed:04x}")]
    CrcMismatch {
        found: u32,
        computed: u16,
        frame_len: usize,
    },
    #[error("unknown codec 0x{codec:02x} at byte {at} (known: 08, 8E, 10, 0C)")]
    UnknownCodec { codec: u8, at: usize },
    #[error("codec {} at byte {at} is not an AVL data codec", codec.name())]
    NotAvl { codec: Codec, at: usize },
    #[error("record counts differ: {first} at byte {first_at}, {second} at byte {second_at}")]
    CountMismatch {
        first: u8,
        first_at: usize,
        second: u8,
        second_at: usize,
    },
    #[error("the frame holds zero records (count at byte {at})")]
    ZeroRecords { at: usize },
    #[error("truncated at byte {at}: {what} needs {needed} bytes, {available} left")]
    Truncated {
        at: usize,
        what: &'static str,
        needed: usize,
        available: usize,
    },
    #[error(
        "record {record} says it has {declared} IO elements (byte {at}), its groups hold {found}"
    )]
    IoCountMismatch {
        record: usize,
        at: usize,
        declared: u16,
        found: u32,
    },
    #[error("{extra} bytes at byte {at} after the last record, before the second record count")]
    TrailingBytes { at: usize, extra: usize },
    #[error("codec 12 message type {kind} at byte {at}: expected 5 (command) or 6 (response)")]
    BadMessageType { kind: u8, at: usize },
    #[error("codec 12 frame holds {count} messages (byte {at}); Sporvern reads frames of one")]
    UnsupportedMessageCount { count: u8, at: usize },
    #[error("UDP length field says {declared} bytes follow, the datagram has {actual}")]
    UdpLength { declared: u16, actual: usize },
    #[error("incomplete: {needed} more bytes are needed")]
    Incomplete { needed: usize },
    #[error("{extra} bytes follow the message at byte {at}")]
    TrailingMessage { at: usize, extra: usize },
    #[error("not a Teltonika message: {reason}")]
    Unrecognised { reason: &'static str },
}

impl DecodeError {
    /// Whether the connection can go on after this error: `false` means close it.
    pub fn can_continue(&self) -> bool {
        !matches!(
            self,
            DecodeError::BadPreamble { .. }
                | DecodeError::FrameTooLong { .. }
                | DecodeError::FrameTooShort { .. }
                | DecodeError::BadLogin { .. }
        )
    }
}

/// What the bytes buffered so far hold; see [`next_frame`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed<'a> {
    /// Not enough bytes yet: read at least `needed` more and call again.
    Incomplete { needed: usize },
    /// A login: the device's IMEI. Answer [`LOGIN_ACCEPT`] or [`LOGIN_REJECT`].
    Login { imei: Imei, consumed: usize },
    /// A keep-alive byte `FF`. Needs no answer.
    KeepAlive,
    /// A complete data frame whose CRC matched: `payload` is its data field (codec id to the
    /// second count), to be read with [`parse_payload`].
    Data { payload: &'a [u8], consumed: usize },
}

impl Framed<'_> {
    /// How many bytes of the buffer this took (0 when incomplete).
    pub fn consumed(&self) -> usize {
        match self {
            Framed::Incomplete { .. } => 0,
            Framed::Login { consumed, .. } | Framed::Data { consumed, .. } => *consumed,
            Framed::KeepAlive => 1,
        }
    }
}

/// The framing layer for a TCP stream: given the bytes buffered so far, says what the first
/// message in them is and how many bytes it took.
///
/// `max_frame_len` caps a data frame's total length (preamble to CRC), checked as soon as the
/// length field arrives, so a peer cannot make the caller buffer more than that (a device
/// sends at most 1,280 bytes; [`DEFAULT_MAX_FRAME_LEN`] is a good cap).
///
/// On [`DecodeError::CrcMismatch`] the frame was delimited: skip its `frame_len` bytes, answer
/// a count of 0 and go on. On the errors [`DecodeError::can_continue`] calls fatal, close.
pub fn next_frame(buf: &[u8], max_frame_len: usize) -> Result<Framed<'_>, DecodeError> {
    match buf {
        [] => Ok(Framed::Incomplete { needed: 1 }),
        [0xFF, ..] => Ok(Framed::KeepAlive),
        [0] => Ok(Framed::Incomplete { needed: 1 }),
        [0, 0, ..] => data_frame(buf, max_frame_len),
        [hi, lo, ..] => login(buf, u16::from_be_bytes([*hi, *lo])),
        [_] => Ok(Framed::Incomplete { needed: 1 }),
    }
}

fn login(buf: &[u8], len: u16) -> Result<Framed<'_>, DecodeError> {
    if len != 15 {
        return Err(DecodeError::BadLogin {
            reason: format!(
                "IMEI length field is {len} (bytes {:02x}{:02x}); an IMEI is 15 digits",
                len >> 8,
                len & 0xff
            ),
        });
    }
    let total = 2 + usize::from(len);
    let Some(digits) = buf.get(2..total) else {
        return Ok(Framed::Incomplete {
            needed: total - buf.len(),
        });
    };
    let text = std::str::from_utf8(digits).map_err(|_| DecodeError::BadLogin {
        reason: "the IMEI is not ASCII".into(),
    })?;
    let imei = Imei::parse(text).map_err(|e| DecodeError::BadLogin {
        reason: e.to_string(),
    })?;
    Ok(Framed::Login {
        imei,
        consumed: total,
    })
}

fn data_frame(buf: &[u8], max_frame_len: usize) -> Result<Framed<'_>, DecodeError> {
    // Reject a bad preamble as soon as its bytes are there, before waiting for more.
    let pre_len = buf.len().min(4);
    if buf[..pre_len].iter().any(|&b| b != 0) {
        let mut found = [0u8; 4];
        found[..pre_len].copy_from_slice(&buf[..pre_len]);
        return Err(DecodeError::BadPreamble {
            found: u32::from_be_bytes(found),
        });
    }
    let Some(&[a, b, c, d]) = buf.get(4..8) else {
        return Ok(Framed::Incomplete {
            needed: 8 - buf.len(),
        });
    };
    let data_len = u32::from_be_bytes([a, b, c, d]);
    let frame_len = 12 + u64::from(data_len);
    if frame_len > max_frame_len as u64 {
        return Err(DecodeError::FrameTooLong {
            data_len,
            frame_len,
            max: max_frame_len,
        });
    }
    if data_len < 3 {
        return Err(DecodeError::FrameTooShort { data_len });
    }
    // Fits in usize: bounded by max_frame_len.
    let frame_len = frame_len as usize;
    let Some(frame) = buf.get(..frame_len) else {
        return Ok(Framed::Incomplete {
            needed: frame_len - buf.len(),
        });
    };
    let (head, crc_field) = frame.split_at(frame_len - 4);
    let payload = &head[8..];
    let found = match crc_field {
        &[a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    };
    let computed = crc16(payload);
    if found != u32::from(computed) {
        return Err(DecodeError::CrcMismatch {
            found,
            computed,
            frame_len,
        });
    }
    Ok(Framed::Data {
        payload,
        consumed: frame_len,
    })
}

/// The TCP acknowledgement: the number of records accepted, 4 bytes big-endian. Send only the
/// count of records durably stored.
pub const fn tcp_ack(accepted: u32) -> [u8; 4] {
    accepted.to_be_bytes()
}

/// The UDP acknowledgement: `0005 <packet_id> 01 <avl_packet_id> <accepted>`.
pub const fn udp_ack(packet_id: u16, avl_packet_id: u8, accepted: u8) -> [u8; 7] {
    let [p0, p1] = packet_id.to_be_bytes();
    [0x00, 0x05, p0, p1, 0x01, avl_packet_id, accepted]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_waits_for_exactly_what_it_needs() {
        let frame = [0u8, 0, 0, 0, 0, 0, 0, 5];
        assert_eq!(
            next_frame(&frame[..3], 1280),
            Ok(Framed::Incomplete { needed: 5 })
        );
        assert_eq!(
            next_frame(&frame, 1280),
            Ok(Framed::Incomplete { needed: 9 })
        );
        assert_eq!(next_frame(&[0xFF, 0, 0], 1280), Ok(Framed::KeepAlive));
        assert_eq!(
            next_frame(&[0, 0x0F, b'1'], 1280),
            Ok(Framed::Incomplete { needed: 14 })
        );
    }

    #[test]
    fn a_bad_preamble_is_fatal_as_soon_as_it_shows() {
        let e = next_frame(&[0, 0, 1], 1280).expect_err("bad preamble");
        assert_eq!(e, DecodeError::BadPreamble { found: 0x0000_0100 });
        assert!(!e.can_continue());
    }

    #[test]
    fn acks() {
        assert_eq!(tcp_ack(1), [0, 0, 0, 1]);
        assert_eq!(
            udp_ack(0xCAFE, 5, 1),
            [0x00, 0x05, 0xCA, 0xFE, 0x01, 0x05, 0x01]
        );
    }
}
