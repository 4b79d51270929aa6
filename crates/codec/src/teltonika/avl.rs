//! The format layer: a frame's data field → records, validated once, then read in place.

use super::{Codec, DecodeError, IoValue, Record};
use domain::{AttrKey, AttrValue, Attribute, Fix, Imei, Position, Timestamp};

/// Where a TCP frame's data field starts: after the preamble and the data length.
const TCP_PAYLOAD_AT: usize = 8;

/// A frame's data field, read: AVL records or a Codec 12 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload<'a> {
    Avl(AvlPacket<'a>),
    Gprs(GprsMessage<'a>),
}

/// Reads a TCP frame's data field (from the codec id to the second count), as
/// [`super::Framed::Data`] hands it out. Error offsets count from the start of the frame.
pub fn parse_payload(payload: &[u8]) -> Result<Payload<'_>, DecodeError> {
    parse_payload_at(payload, TCP_PAYLOAD_AT)
}

pub(crate) fn parse_payload_at(payload: &[u8], base: usize) -> Result<Payload<'_>, DecodeError> {
    match payload.first().map(|&c| (c, Codec::from_id(c))) {
        Some((_, Some(Codec::Codec12))) => GprsMessage::parse_at(payload, base).map(Payload::Gprs),
        Some((_, Some(_))) => AvlPacket::parse_at(payload, base).map(Payload::Avl),
        Some((codec, None)) => Err(DecodeError::UnknownCodec { codec, at: base }),
        None => Err(truncated(base, "codec id", 1, 0)),
    }
}

fn truncated(at: usize, what: &'static str, needed: usize, available: usize) -> DecodeError {
    DecodeError::Truncated {
        at,
        what,
        needed,
        available,
    }
}

/// AVL records (Codec 8, 8E or 16) borrowed from a frame whose structure has been validated:
/// the counts match, every record and IO element lies within the frame, and each record's IO
/// count equals what its groups hold. Reading it cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvlPacket<'a> {
    codec: Codec,
    count: u8,
    /// The records, between the two counts.
    records: &'a [u8],
}

impl<'a> AvlPacket<'a> {
    /// Validates a data field (codec id to second count). Offsets in errors count from the start
    /// of the data field; see [`parse_payload`] for offsets within a TCP frame.
    pub fn parse(payload: &'a [u8]) -> Result<AvlPacket<'a>, DecodeError> {
        AvlPacket::parse_at(payload, 0)
    }

    pub(crate) fn parse_at(payload: &'a [u8], base: usize) -> Result<AvlPacket<'a>, DecodeError> {
        let Some(&codec_id) = payload.first() else {
            return Err(truncated(base, "codec id", 1, 0));
        };
        let codec = match Codec::from_id(codec_id) {
            None => {
                return Err(DecodeError::UnknownCodec {
                    codec: codec_id,
                    at: base,
                });
            }
            Some(Codec::Codec12) => {
                return Err(DecodeError::NotAvl {
                    codec: Codec::Codec12,
                    at: base,
                });
            }
            Some(c) => c,
        };
        let (count, body, second) = match payload {
            [_, count, body @ .., second] => (*count, body, *second),
            _ => {
                return Err(truncated(
                    base + 1,
                    "record count, records, record count",
                    2,
                    payload.len() - 1,
                ));
            }
        };
        if count != second {
            return Err(DecodeError::CountMismatch {
                first: count,
                first_at: base + 1,
                second,
                second_at: base + payload.len() - 1,
            });
        }
        if count == 0 {
            return Err(DecodeError::ZeroRecords { at: base + 1 });
        }
        let body_at = base + 2;
        let mut rest = body;
        for index in 1..=usize::from(count) {
            let record_at = body_at + (body.len() - rest.len());
            match parse_record(codec, rest) {
                Ok((_, r)) => rest = r,
                Err(Fault::Truncated {
                    at,
                    what,
                    needed,
                    available,
                }) => {
                    return Err(truncated(record_at + at, what, needed, available));
                }
                Err(Fault::IoCount {
                    at,
                    declared,
                    found,
                }) => {
                    return Err(DecodeError::IoCountMismatch {
                        record: index,
                        at: record_at + at,
                        declared,
                        found,
                    });
                }
            }
        }
        if !rest.is_empty() {
            return Err(DecodeError::TrailingBytes {
                at: body_at + body.len() - rest.len(),
                extra: rest.len(),
            });
        }
        Ok(AvlPacket {
            codec,
            count,
            records: body,
        })
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The number of records (at least 1).
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Always false: a packet without records is rejected when parsed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The records, read in place.
    pub fn records(&self) -> Records<'a> {
        Records {
            codec: self.codec,
            rest: self.records,
            left: self.count,
        }
    }

    /// Copies the records into owned [`Record`]s (one allocation per record and its IO list,
    /// sized by validated counts).
    pub fn to_records(&self) -> Vec<Record> {
        let mut out = Vec::with_capacity(self.len());
        out.extend(self.records().map(|r| r.to_record()));
        out
    }
}

/// An iterator over a validated packet's records.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    codec: Codec,
    rest: &'a [u8],
    left: u8,
}

impl<'a> Iterator for Records<'a> {
    type Item = RecordView<'a>;

    #[inline]
    fn next(&mut self) -> Option<RecordView<'a>> {
        if self.left == 0 {
            return None;
        }
        // Cannot fail: the packet was validated. `ok()?` keeps it panic-free regardless.
        let (view, rest) = if self.left == 1 {
            // The last record is all that is left: no need to walk its IO groups to find
            // where it ends.
            (
                record_at_end(self.codec, self.rest)?,
                &self.rest[self.rest.len()..],
            )
        } else {
            parse_record(self.codec, self.rest).ok()?
        };
        self.rest = rest;
        self.left -= 1;
        Some(view)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::from(self.left), Some(usize::from(self.left)))
    }
}

impl ExactSizeIterator for Records<'_> {}

/// A problem inside one record, with its offset from the record's start.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Truncated {
        at: usize,
        what: &'static str,
        needed: usize,
        available: usize,
    },
    IoCount {
        at: usize,
        declared: u16,
        found: u32,
    },
}

/// Timestamp (8), priority (1), GPS element (15).
const HEAD_LEN: usize = 24;

#[inline(always)]
fn take<'a, const N: usize>(
    rest: &mut &'a [u8],
    start_len: usize,
    what: &'static str,
) -> Result<&'a [u8; N], Fault> {
    match rest.split_first_chunk::<N>() {
        Some((a, r)) => {
            *rest = r;
            Ok(a)
        }
        None => Err(Fault::Truncated {
            at: start_len - rest.len(),
            what,
            needed: N,
            available: rest.len(),
        }),
    }
}

#[inline(always)]
fn skip(rest: &mut &[u8], n: usize, start_len: usize, what: &'static str) -> Result<(), Fault> {
    match rest.get(n..) {
        Some(r) => {
            *rest = r;
            Ok(())
        }
        None => Err(Fault::Truncated {
            at: start_len - rest.len(),
            what,
            needed: n,
            available: rest.len(),
        }),
    }
}

/// A record known (validated) to span all of `buf`: reads only its fixed-size start.
#[inline(always)]
fn record_at_end(codec: Codec, buf: &[u8]) -> Option<RecordView<'_>> {
    let (head, rest) = buf.split_first_chunk::<HEAD_LEN>()?;
    let (event_io_id, generation_type, io_total, io) = match codec {
        Codec::Codec8 => {
            let (&[ev, total], io) = rest.split_first_chunk::<2>()?;
            (u16::from(ev), None, u16::from(total), io)
        }
        Codec::Codec16 => {
            let (&[e0, e1, g, total], io) = rest.split_first_chunk::<4>()?;
            (u16::from_be_bytes([e0, e1]), Some(g), u16::from(total), io)
        }
        _ => {
            let (&[e0, e1, t0, t1], io) = rest.split_first_chunk::<4>()?;
            (
                u16::from_be_bytes([e0, e1]),
                None,
                u16::from_be_bytes([t0, t1]),
                io,
            )
        }
    };
    Some(RecordView {
        codec,
        head,
        event_io_id,
        generation_type,
        io_total,
        io,
    })
}

/// Reads one record from the start of `buf`, checking every length against the bytes there.
#[inline(always)]
fn parse_record(codec: Codec, buf: &[u8]) -> Result<(RecordView<'_>, &[u8]), Fault> {
    let n = buf.len();
    let mut rest = buf;
    let head = take::<HEAD_LEN>(&mut rest, n, "record header (time, priority, GPS element)")?;
    let (event_io_id, generation_type, io_total, wide_ids, wide_counts) = match codec {
        Codec::Codec8 => {
            let &[ev, total] = take::<2>(&mut rest, n, "event IO id and IO count")?;
            (u16::from(ev), None, u16::from(total), false, false)
        }
        Codec::Codec16 => {
            let &[e0, e1, gen_type, total] =
                take::<4>(&mut rest, n, "event IO id, generation type and IO count")?;
            (
                u16::from_be_bytes([e0, e1]),
                Some(gen_type),
                u16::from(total),
                true,
                false,
            )
        }
        _ => {
            let &[e0, e1, t0, t1] = take::<4>(&mut rest, n, "event IO id and IO count")?;
            (
                u16::from_be_bytes([e0, e1]),
                None,
                u16::from_be_bytes([t0, t1]),
                true,
                true,
            )
        }
    };
    let total_at = n - rest.len() - if wide_counts { 2 } else { 1 };
    let io = rest;
    let id_len = if wide_ids { 2 } else { 1 };
    let mut found: u32 = 0;
    for size in [1usize, 2, 4, 8] {
        let count = if wide_counts {
            usize::from(u16::from_be_bytes(*take::<2>(
                &mut rest,
                n,
                "IO group count",
            )?))
        } else {
            usize::from(take::<1>(&mut rest, n, "IO group count")?[0])
        };
        skip(&mut rest, count * (id_len + size), n, "IO group")?;
        found += count as u32;
    }
    if wide_counts {
        let count = u16::from_be_bytes(*take::<2>(&mut rest, n, "NX IO group count")?);
        for _ in 0..count {
            let &[_, _, l0, l1] = take::<4>(&mut rest, n, "NX IO id and length")?;
            skip(
                &mut rest,
                usize::from(u16::from_be_bytes([l0, l1])),
                n,
                "NX IO value",
            )?;
        }
        found += u32::from(count);
    }
    if found != u32::from(io_total) {
        return Err(Fault::IoCount {
            at: total_at,
            declared: io_total,
            found,
        });
    }
    let io = &io[..io.len() - rest.len()];
    let view = RecordView {
        codec,
        head,
        event_io_id,
        generation_type,
        io_total,
        io,
    };
    Ok((view, rest))
}

/// One AVL record, read in place from a validated packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    codec: Codec,
    head: &'a [u8; HEAD_LEN],
    event_io_id: u16,
    generation_type: Option<u8>,
    io_total: u16,
    io: &'a [u8],
}

#[inline(always)]
fn arr<const N: usize>(s: &[u8], at: usize) -> [u8; N] {
    match s.get(at..at + N).and_then(|s| <[u8; N]>::try_from(s).ok()) {
        Some(a) => a,
        None => [0; N],
    }
}

impl<'a> RecordView<'a> {
    /// Milliseconds since the Unix epoch, as sent.
    #[inline]
    pub fn time_ms(&self) -> u64 {
        u64::from_be_bytes(arr(self.head, 0))
    }

    /// The record's time (a value past `i64::MAX` ms saturates).
    #[inline]
    pub fn time(&self) -> Timestamp {
        Timestamp::from_millis(i64::try_from(self.time_ms()).unwrap_or(i64::MAX))
    }

    /// 0 low, 1 high, 2 panic.
    #[inline]
    pub fn priority(&self) -> u8 {
        self.head[8]
    }

    /// Longitude in degrees × 10^7, as sent.
    #[inline]
    pub fn lon_raw(&self) -> i32 {
        i32::from_be_bytes(arr(self.head, 9))
    }

    /// Latitude in degrees × 10^7, as sent.
    #[inline]
    pub fn lat_raw(&self) -> i32 {
        i32::from_be_bytes(arr(self.head, 13))
    }

    #[inline]
    pub fn lon(&self) -> f64 {
        f64::from(self.lon_raw()) / 1e7
    }

    #[inline]
    pub fn lat(&self) -> f64 {
        f64::from(self.lat_raw()) / 1e7
    }

    /// Metres above sea level.
    #[inline]
    pub fn altitude(&self) -> i16 {
        i16::from_be_bytes(arr(self.head, 17))
    }

    /// Heading in degrees from north.
    #[inline]
    pub fn angle(&self) -> u16 {
        u16::from_be_bytes(arr(self.head, 19))
    }

    /// Satellites in use; 0 means the position is not valid.
    #[inline]
    pub fn satellites(&self) -> u8 {
        self.head[21]
    }

    #[inline]
    pub fn speed_kmh(&self) -> u16 {
        u16::from_be_bytes(arr(self.head, 22))
    }

    /// The IO id that triggered the record, 0 when it is periodic.
    #[inline]
    pub fn event_io_id(&self) -> u16 {
        self.event_io_id
    }

    /// Codec 16 only: what generated the record (0 on exit, 1 on entrance, 2 on both,
    /// 3 reserved, 4 hysteresis, 5 on change, 6 eventual, 7 periodical).
    #[inline]
    pub fn generation_type(&self) -> Option<u8> {
        self.generation_type
    }

    /// The number of IO elements.
    #[inline]
    pub fn io_count(&self) -> u16 {
        self.io_total
    }

    /// The IO elements in the order sent: 1-, 2-, 4-, 8-byte values, then (8E) variable-length.
    #[inline]
    pub fn io(&self) -> IoElements<'a> {
        IoElements {
            rest: self.io,
            codec: self.codec,
            group: 0,
            left: 0,
        }
    }

    /// Copies the record into an owned [`Record`].
    /// The domain fix, straight from the frame (what [`Record::to_fix`] gives, without the
    /// owned record in between). A non-zero priority (2 = panic) and the event IO id are kept
    /// as the attributes `priority` and `event_io`: the alarm purpose needs them.
    pub fn to_fix(&self) -> Fix {
        let satellites = self.satellites();
        let position = if satellites == 0 {
            None
        } else {
            Position::new(self.lat(), self.lon())
        };
        let mut attributes = Vec::with_capacity(usize::from(self.io_total) + 2);
        if self.priority() != 0 {
            attributes.push(Attribute {
                key: AttrKey::Named("priority".into()),
                value: AttrValue::Int(i64::from(self.priority())),
            });
        }
        if self.event_io_id() != 0 {
            attributes.push(Attribute {
                key: AttrKey::Named("event_io".into()),
                value: AttrValue::Int(i64::from(self.event_io_id())),
            });
        }
        attributes.extend(self.io().map(|(id, v)| Attribute {
            key: AttrKey::Io(id),
            value: v.to_owned_value().to_attr_value(),
        }));
        Fix {
            time: self.time(),
            position,
            altitude_m: Some(f32::from(self.altitude())),
            course_deg: Some(self.angle()),
            satellites: Some(satellites),
            speed_kmh: Some(f32::from(self.speed_kmh())),
            attributes,
        }
    }

    pub fn to_record(&self) -> Record {
        let mut io = Vec::with_capacity(usize::from(self.io_total));
        io.extend(self.io().map(|(id, v)| (id, v.to_owned_value())));
        Record {
            time: self.time(),
            priority: self.priority(),
            lon: self.lon(),
            lat: self.lat(),
            altitude: self.altitude(),
            angle: self.angle(),
            satellites: self.satellites(),
            speed_kmh: self.speed_kmh(),
            event_io_id: self.event_io_id,
            generation_type: self.generation_type,
            io,
        }
    }
}

/// An IO value borrowed from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoValueRef<'a> {
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    /// A variable-length value (Codec 8E's NX group).
    Bytes(&'a [u8]),
}

impl IoValueRef<'_> {
    pub fn to_owned_value(self) -> IoValue {
        match self {
            IoValueRef::U8(v) => IoValue::U8(v),
            IoValueRef::U16(v) => IoValue::U16(v),
            IoValueRef::U32(v) => IoValue::U32(v),
            IoValueRef::U64(v) => IoValue::U64(v),
            IoValueRef::Bytes(b) => IoValue::Bytes(b.to_vec()),
        }
    }
}

/// An iterator over one record's IO elements as `(id, value)`.
#[derive(Debug, Clone)]
pub struct IoElements<'a> {
    rest: &'a [u8],
    codec: Codec,
    /// Groups whose count has been read: 1..=4 fixed-size, 5 NX.
    group: u8,
    /// Elements left in the current group.
    left: u16,
}

impl<'a> IoElements<'a> {
    #[inline(always)]
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (a, r) = self.rest.split_first_chunk::<N>()?;
        self.rest = r;
        Some(*a)
    }

    #[inline(always)]
    fn id(&mut self) -> Option<u16> {
        if self.codec == Codec::Codec8 {
            self.bytes::<1>().map(|[a]| u16::from(a))
        } else {
            self.bytes::<2>().map(u16::from_be_bytes)
        }
    }
}

impl<'a> Iterator for IoElements<'a> {
    type Item = (u16, IoValueRef<'a>);

    #[inline]
    fn next(&mut self) -> Option<(u16, IoValueRef<'a>)> {
        while self.left == 0 {
            let groups = if self.codec == Codec::Codec8E { 5 } else { 4 };
            if self.group >= groups {
                return None;
            }
            self.left = if self.codec == Codec::Codec8E {
                self.bytes::<2>().map(u16::from_be_bytes)?
            } else {
                self.bytes::<1>().map(|[a]| u16::from(a))?
            };
            self.group += 1;
        }
        self.left -= 1;
        let id = self.id()?;
        let value = match self.group {
            1 => IoValueRef::U8(self.bytes::<1>()?[0]),
            2 => IoValueRef::U16(u16::from_be_bytes(self.bytes()?)),
            3 => IoValueRef::U32(u32::from_be_bytes(self.bytes()?)),
            4 => IoValueRef::U64(u64::from_be_bytes(self.bytes()?)),
            _ => {
                let len = usize::from(u16::from_be_bytes(self.bytes()?));
                let (v, r) = self.rest.split_at_checked(len)?;
                self.rest = r;
                IoValueRef::Bytes(v)
            }
        };
        Some((id, value))
    }
}

/// Codec 12 message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GprsKind {
    /// Type 5: a command, server to device.
    Command,
    /// Type 6: a response, device to server.
    Response,
}

impl GprsKind {
    pub const fn type_id(self) -> u8 {
        match self {
            GprsKind::Command => 5,
            GprsKind::Response => 6,
        }
    }
}

/// A Codec 12 command or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GprsMessage<'a> {
    pub kind: GprsKind,
    /// The command or response text, as sent (usually ASCII).
    pub text: &'a [u8],
}

impl<'a> GprsMessage<'a> {
    fn parse_at(payload: &'a [u8], base: usize) -> Result<GprsMessage<'a>, DecodeError> {
        let (count, body, second) = match payload {
            [_, count, body @ .., second] => (*count, body, *second),
            _ => return Err(truncated(base + 1, "message counts", 2, payload.len() - 1)),
        };
        if count != second {
            return Err(DecodeError::CountMismatch {
                first: count,
                first_at: base + 1,
                second,
                second_at: base + payload.len() - 1,
            });
        }
        if count != 1 {
            return Err(DecodeError::UnsupportedMessageCount {
                count,
                at: base + 1,
            });
        }
        let at = base + 2;
        let Some((&[kind, s0, s1, s2, s3], rest)) = body.split_first_chunk::<5>() else {
            return Err(truncated(at, "message type and size", 5, body.len()));
        };
        let kind = match kind {
            5 => GprsKind::Command,
            6 => GprsKind::Response,
            _ => return Err(DecodeError::BadMessageType { kind, at }),
        };
        let size = u32::from_be_bytes([s0, s1, s2, s3]) as usize;
        let Some((text, extra)) = rest.split_at_checked(size) else {
            return Err(truncated(at + 5, "message text", size, rest.len()));
        };
        if !extra.is_empty() {
            return Err(DecodeError::TrailingBytes {
                at: at + 5 + size,
                extra: extra.len(),
            });
        }
        Ok(GprsMessage { kind, text })
    }
}

/// An AVL packet received over UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpPacket<'a> {
    pub packet_id: u16,
    pub avl_packet_id: u8,
    pub imei: Imei,
    pub avl: AvlPacket<'a>,
}

impl UdpPacket<'_> {
    /// The acknowledgement for this packet, saying `accepted` records were stored.
    pub fn ack(&self, accepted: u8) -> [u8; 7] {
        super::udp_ack(self.packet_id, self.avl_packet_id, accepted)
    }
}

/// Reads a UDP datagram: `length(2) packet_id(2) 01 avl_packet_id(1) imei_length(2) imei`,
/// then codec, count, records, count (no CRC). Every error drops only this datagram.
pub fn parse_udp(datagram: &[u8]) -> Result<UdpPacket<'_>, DecodeError> {
    let Some((&[l0, l1], rest)) = datagram.split_first_chunk::<2>() else {
        return Err(truncated(0, "UDP length", 2, datagram.len()));
    };
    let declared = u16::from_be_bytes([l0, l1]);
    if usize::from(declared) != rest.len() {
        return Err(DecodeError::UdpLength {
            declared,
            actual: rest.len(),
        });
    }
    let Some((&[p0, p1, _, avl_packet_id, i0, i1], rest)) = rest.split_first_chunk::<6>() else {
        return Err(truncated(2, "UDP header", 6, rest.len()));
    };
    let imei_len = usize::from(u16::from_be_bytes([i0, i1]));
    let Some((imei, payload)) = rest.split_at_checked(imei_len) else {
        return Err(truncated(8, "IMEI", imei_len, rest.len()));
    };
    let imei = std::str::from_utf8(imei)
        .ok()
        .and_then(|s| Imei::parse(s).ok())
        .ok_or_else(|| DecodeError::BadLogin {
            reason: format!(
                "the UDP header's IMEI {:?} is not 15 digits",
                String::from_utf8_lossy(imei)
            ),
        })?;
    let avl = AvlPacket::parse_at(payload, 8 + imei_len)?;
    Ok(UdpPacket {
        packet_id: u16::from_be_bytes([p0, p1]),
        avl_packet_id,
        imei,
        avl,
    })
}
