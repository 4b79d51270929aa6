//! `sporvern decode --protocol teltonika`: any one Teltonika message → the JSON integrators see.

use super::{
    AvlPacket, DEFAULT_MAX_FRAME_LEN, DecodeError, Framed, GprsKind, IoValueRef, Payload,
    RecordView, next_frame, parse_payload, parse_udp, tcp_ack,
};
use serde_json::{Map, Value, json};

/// Decodes one message: a login, a keep-alive, a TCP data frame (Codec 8, 8E, 16 or 12) or a
/// UDP datagram, into the JSON `sporvern decode` prints. The input must hold exactly one
/// message.
///
/// - login: `{"type":"login","imei":"…"}`
/// - keep-alive: `{"type":"keepalive"}`
/// - data: `{"type":"data","codec":"8"|"8E"|"16","records":[…],"ack":"00000001"}`, where `ack`
///   is the hex of the TCP acknowledgement for all records; over UDP also `"transport":"udp"`,
///   `packet_id`, `avl_packet_id`, `imei`, and the UDP acknowledgement as `ack`
/// - Codec 12: `{"type":"command"|"response","codec":"12","text":"…"}`
///
/// A record is `{"time","lat","lon","altitude","angle","satellites","speed_kmh","priority",
/// "event_id","io":{"<id>":value}}` (plus `generation_type` for Codec 16); variable-length IO
/// values are lowercase hex strings.
pub fn decode_json(bytes: &[u8]) -> Result<Value, DecodeError> {
    match bytes {
        [] => Err(DecodeError::Unrecognised {
            reason: "the input is empty",
        }),
        [0xFF] => Ok(json!({"type": "keepalive"})),
        [0xFF, rest @ ..] => Err(DecodeError::TrailingMessage {
            at: 1,
            extra: rest.len(),
        }),
        [0, 0, ..] | [0] => tcp(bytes),
        // A login: a length, then digits (a UDP header's packet id and 01 are not digits).
        [_, _, digits @ ..] if digits.iter().all(u8::is_ascii_digit) => tcp(bytes),
        _ => udp(bytes),
    }
}

fn tcp(bytes: &[u8]) -> Result<Value, DecodeError> {
    let framed = next_frame(bytes, DEFAULT_MAX_FRAME_LEN)?;
    let consumed = framed.consumed();
    let value = match framed {
        Framed::Incomplete { needed } => return Err(DecodeError::Incomplete { needed }),
        Framed::KeepAlive => json!({"type": "keepalive"}),
        Framed::Login { imei, .. } => json!({"type": "login", "imei": imei.to_string()}),
        Framed::Data { payload, .. } => match parse_payload(payload)? {
            Payload::Avl(avl) => {
                let mut v = avl_json(&avl);
                v.insert("ack".into(), hex(&tcp_ack(avl.len() as u32)).into());
                Value::Object(v)
            }
            Payload::Gprs(m) => json!({
                "type": match m.kind {
                    GprsKind::Command => "command",
                    GprsKind::Response => "response",
                },
                "codec": "12",
                "text": String::from_utf8_lossy(m.text),
            }),
        },
    };
    if consumed < bytes.len() {
        return Err(DecodeError::TrailingMessage {
            at: consumed,
            extra: bytes.len() - consumed,
        });
    }
    Ok(value)
}

fn udp(bytes: &[u8]) -> Result<Value, DecodeError> {
    let p = parse_udp(bytes)?;
    let mut v = Map::new();
    v.insert("type".into(), "data".into());
    v.insert("transport".into(), "udp".into());
    v.insert("packet_id".into(), p.packet_id.into());
    v.insert("avl_packet_id".into(), p.avl_packet_id.into());
    v.insert("imei".into(), p.imei.to_string().into());
    v.extend(avl_json(&p.avl));
    v.insert("ack".into(), hex(&p.ack(p.avl.len() as u8)).into());
    Ok(Value::Object(v))
}

fn avl_json(avl: &AvlPacket<'_>) -> Map<String, Value> {
    let mut v = Map::new();
    v.insert("type".into(), "data".into());
    v.insert("codec".into(), avl.codec().name().into());
    v.insert(
        "records".into(),
        avl.records().map(|r| record_json(&r)).collect(),
    );
    v
}

fn record_json(r: &RecordView<'_>) -> Value {
    let mut io = Map::new();
    for (id, value) in r.io() {
        let value: Value = match value {
            IoValueRef::U8(v) => v.into(),
            IoValueRef::U16(v) => v.into(),
            IoValueRef::U32(v) => v.into(),
            IoValueRef::U64(v) => v.into(),
            IoValueRef::Bytes(b) => hex(b).into(),
        };
        io.insert(id.to_string(), value);
    }
    let mut v = Map::new();
    v.insert("time".into(), r.time().rfc3339().into());
    v.insert("lat".into(), r.lat().into());
    v.insert("lon".into(), r.lon().into());
    v.insert("altitude".into(), r.altitude().into());
    v.insert("angle".into(), r.angle().into());
    v.insert("satellites".into(), r.satellites().into());
    v.insert("speed_kmh".into(), r.speed_kmh().into());
    v.insert("priority".into(), r.priority().into());
    v.insert("event_id".into(), r.event_io_id().into());
    if let Some(g) = r.generation_type() {
        v.insert("generation_type".into(), g.into());
    }
    v.insert("io".into(), Value::Object(io));
    Value::Object(v)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xF)]));
    }
    s
}
