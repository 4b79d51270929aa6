//! Encoders, for the simulator, the tests and the fuzz corpus: the inverse of the decoders.

use super::{Codec, GprsKind, IoValue, Record, crc16};
use domain::Imei;

/// Why records cannot be written in a codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    #[error("a packet holds 1 to 255 records, not {0}")]
    RecordCount(usize),
    #[error("codec {} does not carry AVL records", .0.name())]
    NotAvl(Codec),
    #[error("IO id {id} does not fit codec {}'s 1-byte ids", codec.name())]
    IoIdTooLarge { id: u16, codec: Codec },
    #[error("event IO id {id} does not fit codec {}'s 1-byte ids", codec.name())]
    EventIdTooLarge { id: u16, codec: Codec },
    #[error("codec {} cannot hold {count} IO elements in one record or group", codec.name())]
    TooManyIo { count: usize, codec: Codec },
    #[error("codec {} has no variable-length IO values (IO id {id})", codec.name())]
    BytesNotSupported { id: u16, codec: Codec },
    #[error("IO id {id}'s value of {len} bytes is over 65,535")]
    ValueTooLong { id: u16, len: usize },
    #[error("codec 16 records need a generation type; other codecs have none")]
    GenerationType,
    #[error("a codec 12 text of {0} bytes is over 4 GiB")]
    TextTooLong(usize),
}

/// The login a device sends: `000F` and the IMEI in ASCII.
pub fn encode_login(imei: Imei) -> Vec<u8> {
    let digits = imei.to_string();
    let mut out = Vec::with_capacity(2 + digits.len());
    out.extend_from_slice(&(digits.len() as u16).to_be_bytes());
    out.extend_from_slice(digits.as_bytes());
    out
}

/// A TCP data frame: preamble, data length, data, CRC.
pub fn encode_tcp_frame(codec: Codec, records: &[Record]) -> Result<Vec<u8>, EncodeError> {
    let payload = encode_payload(codec, records)?;
    Ok(wrap_tcp(&payload))
}

fn wrap_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 12);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&u32::from(crc16(payload)).to_be_bytes());
    out
}

/// A UDP datagram: header with the IMEI, then the data field (no CRC).
pub fn encode_udp_packet(
    packet_id: u16,
    avl_packet_id: u8,
    imei: Imei,
    codec: Codec,
    records: &[Record],
) -> Result<Vec<u8>, EncodeError> {
    let payload = encode_payload(codec, records)?;
    let digits = imei.to_string();
    let mut out = Vec::with_capacity(payload.len() + 8 + digits.len());
    let body_len = 6 + digits.len() + payload.len();
    // A data field longer than a datagram cannot be sent in one: saturate, the decoder rejects.
    out.extend_from_slice(&u16::try_from(body_len).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(&packet_id.to_be_bytes());
    out.push(0x01);
    out.push(avl_packet_id);
    out.extend_from_slice(&(digits.len() as u16).to_be_bytes());
    out.extend_from_slice(digits.as_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// A Codec 12 TCP frame holding one command (server → device) or response.
pub fn encode_gprs(kind: GprsKind, text: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let size = u32::try_from(text.len()).map_err(|_| EncodeError::TextTooLong(text.len()))?;
    let mut payload = Vec::with_capacity(text.len() + 8);
    payload.extend_from_slice(&[Codec::Codec12.id(), 1, kind.type_id()]);
    payload.extend_from_slice(&size.to_be_bytes());
    payload.extend_from_slice(text);
    payload.push(1);
    Ok(wrap_tcp(&payload))
}

/// The data field: codec id, count, records, count.
pub fn encode_payload(codec: Codec, records: &[Record]) -> Result<Vec<u8>, EncodeError> {
    if codec == Codec::Codec12 {
        return Err(EncodeError::NotAvl(codec));
    }
    let count = u8::try_from(records.len())
        .ok()
        .filter(|c| *c > 0)
        .ok_or(EncodeError::RecordCount(records.len()))?;
    let mut out = Vec::with_capacity(3 + records.len() * 64);
    out.push(codec.id());
    out.push(count);
    for r in records {
        encode_record(codec, r, &mut out)?;
    }
    out.push(count);
    Ok(out)
}

fn put_count(codec: Codec, n: usize, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let too_many = EncodeError::TooManyIo { count: n, codec };
    if codec == Codec::Codec8E {
        out.extend_from_slice(&u16::try_from(n).map_err(|_| too_many)?.to_be_bytes());
    } else {
        out.push(u8::try_from(n).map_err(|_| too_many)?);
    }
    Ok(())
}

fn put_id(codec: Codec, id: u16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    if codec == Codec::Codec8 {
        out.push(u8::try_from(id).map_err(|_| EncodeError::IoIdTooLarge { id, codec })?);
    } else {
        out.extend_from_slice(&id.to_be_bytes());
    }
    Ok(())
}

fn encode_record(codec: Codec, r: &Record, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.extend_from_slice(&r.time.millis().to_be_bytes());
    out.push(r.priority);
    out.extend_from_slice(&((r.lon * 1e7).round() as i32).to_be_bytes());
    out.extend_from_slice(&((r.lat * 1e7).round() as i32).to_be_bytes());
    out.extend_from_slice(&r.altitude.to_be_bytes());
    out.extend_from_slice(&r.angle.to_be_bytes());
    out.push(r.satellites);
    out.extend_from_slice(&r.speed_kmh.to_be_bytes());
    match (codec, r.generation_type) {
        (Codec::Codec8, None) => {
            let id = r.event_io_id;
            out.push(u8::try_from(id).map_err(|_| EncodeError::EventIdTooLarge { id, codec })?);
        }
        (Codec::Codec16, Some(g)) => {
            out.extend_from_slice(&r.event_io_id.to_be_bytes());
            out.push(g);
        }
        (Codec::Codec8E, None) => out.extend_from_slice(&r.event_io_id.to_be_bytes()),
        _ => return Err(EncodeError::GenerationType),
    }
    put_count(codec, r.io.len(), out)?;
    let group = |size: u8| {
        r.io.iter().filter(move |(_, v)| match v {
            IoValue::U8(_) => size == 1,
            IoValue::U16(_) => size == 2,
            IoValue::U32(_) => size == 4,
            IoValue::U64(_) => size == 8,
            IoValue::Bytes(_) => size == 0,
        })
    };
    for size in [1, 2, 4, 8] {
        put_count(codec, group(size).count(), out)?;
        for (id, v) in group(size) {
            put_id(codec, *id, out)?;
            match v {
                IoValue::U8(v) => out.push(*v),
                IoValue::U16(v) => out.extend_from_slice(&v.to_be_bytes()),
                IoValue::U32(v) => out.extend_from_slice(&v.to_be_bytes()),
                IoValue::U64(v) => out.extend_from_slice(&v.to_be_bytes()),
                IoValue::Bytes(_) => {}
            }
        }
    }
    let nx = group(0).count();
    if codec == Codec::Codec8E {
        put_count(codec, nx, out)?;
        for (id, v) in group(0) {
            if let IoValue::Bytes(b) = v {
                let len = u16::try_from(b.len()).map_err(|_| EncodeError::ValueTooLong {
                    id: *id,
                    len: b.len(),
                })?;
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    } else if let Some((id, _)) = group(0).next() {
        return Err(EncodeError::BytesNotSupported { id: *id, codec });
    }
    Ok(())
}
