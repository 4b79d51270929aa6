//! The documented values of the sample frames, and properties over random input.

use codec::teltonika::{
    self, AvlPacket, Codec, DecodeError, Framed, IoValue, Payload, Record, parse_payload, parse_udp,
};
use domain::{AttrKey, AttrValue, Imei, Position, Timestamp};
use proptest::prelude::*;

const CODEC8: &str = "000000000000004c08010000016818d500580009c28d9f1cb3757a00be00c60f0053000f06f0011503c80001011d00fc0007423799180053cdf80dce426f430f88190bb8560bb802f100005aa110002887e000010000ee8d";
const CODEC8E: &str = "00000000000000818e0100000166e368a510000f0d8b5b20961c35008d010308000000000014000900ef0000f00100500100150400c800004501001e00002500002900000a00b5000800b60007004230dc0018000000430fcb0044005f001103de001200e50013001200240000000000000001010000113141314a433534343452373235323336370100005e99";

fn records(frame_hex: &str) -> Vec<Record> {
    let frame = hex::decode(frame_hex).expect("hex");
    let Ok(Framed::Data { payload, consumed }) = teltonika::next_frame(&frame, 1280) else {
        panic!("not a data frame")
    };
    assert_eq!(consumed, frame.len());
    let Ok(Payload::Avl(p)) = parse_payload(payload) else {
        panic!("not AVL")
    };
    p.to_records()
}

fn io(r: &Record, id: u16) -> Option<&IoValue> {
    r.io.iter().find(|(i, _)| *i == id).map(|(_, v)| v)
}

#[test]
fn codec8_sample_holds_its_documented_values() {
    let r = records(CODEC8);
    assert_eq!(r.len(), 1);
    let r = &r[0];
    assert_eq!(r.time.rfc3339(), "2019-01-04T12:27:19Z");
    assert_eq!((r.lat, r.lon), (48.1523066, 16.3745183));
    assert_eq!(
        (r.altitude, r.angle, r.satellites, r.speed_kmh),
        (190, 198, 15, 83)
    );
    assert_eq!(io(r, 240), Some(&IoValue::U8(1)));
    assert_eq!(io(r, 16), Some(&IoValue::U32(2_656_224)));
    assert_eq!(io(r, 24), Some(&IoValue::U16(83)));
    assert_eq!(r.io.len(), 15);
    let fix = r.to_fix();
    assert_eq!(fix.position, Position::new(48.1523066, 16.3745183));
    assert_eq!(fix.speed_kmh, Some(83.0));
    assert!(
        fix.attributes
            .iter()
            .any(|a| a.key == AttrKey::Io(16) && a.value == AttrValue::Int(2_656_224))
    );
}

#[test]
fn codec8e_sample_holds_its_documented_values() {
    let r = records(CODEC8E);
    assert_eq!(r.len(), 1);
    let r = &r[0];
    assert_eq!(r.time.rfc3339(), "2018-11-05T10:26:18Z");
    assert_eq!((r.lat, r.lon), (54.6708533, 25.2545883));
    assert_eq!(r.satellites, 8);
    assert_eq!(io(r, 239), Some(&IoValue::U8(0)));
    assert_eq!(io(r, 240), Some(&IoValue::U8(1)));
    assert_eq!(
        io(r, 256),
        Some(&IoValue::Bytes(b"1A1JC5444R7252367".to_vec()))
    );
}

#[test]
fn udp_sample_and_its_ack() {
    let d = hex::decode("003DCAFE0105000F33353230393330383634303336353508010000016B4F815B30010000000000000000000000000000000103021503010101425DBC000001").expect("hex");
    let p = parse_udp(&d).expect("valid");
    assert_eq!(p.imei, Imei::parse("352093086403655").expect("imei"));
    assert_eq!(p.ack(1), [0x00, 0x05, 0xCA, 0xFE, 0x01, 0x05, 0x01]);
    assert_eq!(p.avl.len(), 1);
}

#[test]
fn a_crc_error_says_how_far_to_skip() {
    let mut frame = hex::decode(CODEC8).expect("hex");
    let n = frame.len();
    frame[n - 1] ^= 1;
    let e = teltonika::next_frame(&frame, 1280).expect_err("bad CRC");
    assert!(matches!(e, DecodeError::CrcMismatch { frame_len, .. } if frame_len == n));
    assert!(e.can_continue());
}

#[test]
fn a_count_of_255_io_elements_in_a_small_frame_is_an_error() {
    // Codec 8, one record whose total IO count and 1-byte group count say 255.
    let mut payload = vec![0x08, 1];
    payload.extend_from_slice(&[0; 24]);
    payload.extend_from_slice(&[0, 255, 255, 1, 1]);
    payload.push(1);
    assert!(matches!(
        AvlPacket::parse(&payload),
        Err(DecodeError::Truncated { .. })
    ));
}

fn arb_value(codec: Codec) -> impl Strategy<Value = IoValue> {
    let fixed = prop_oneof![
        any::<u8>().prop_map(IoValue::U8),
        any::<u16>().prop_map(IoValue::U16),
        any::<u32>().prop_map(IoValue::U32),
        any::<u64>().prop_map(IoValue::U64),
    ];
    if codec == Codec::Codec8E {
        prop_oneof![4 => fixed, 1 => proptest::collection::vec(any::<u8>(), 0..20).prop_map(IoValue::Bytes)].boxed()
    } else {
        fixed.boxed()
    }
}

fn group(v: &IoValue) -> u8 {
    match v {
        IoValue::U8(_) => 0,
        IoValue::U16(_) => 1,
        IoValue::U32(_) => 2,
        IoValue::U64(_) => 3,
        IoValue::Bytes(_) => 4,
    }
}

fn arb_record(codec: Codec) -> impl Strategy<Value = Record> {
    let max_id: u16 = if codec == Codec::Codec8 {
        255
    } else {
        u16::MAX
    };
    (
        0i64..4_000_000_000_000,
        any::<u8>(),
        (
            -1_800_000_000i32..=1_800_000_000,
            -900_000_000i32..=900_000_000,
        ),
        (any::<i16>(), any::<u16>(), any::<u8>(), any::<u16>()),
        0..=max_id,
        any::<u8>(),
        proptest::collection::vec((0..=max_id, arb_value(codec)), 0..12),
    )
        .prop_map(
            move |(
                t,
                priority,
                (lon, lat),
                (altitude, angle, satellites, speed_kmh),
                ev,
                g,
                mut io,
            )| {
                // The wire groups IO elements by size: generate them in that order.
                io.sort_by_key(|(_, v)| group(v));
                Record {
                    time: Timestamp::from_millis(t),
                    priority,
                    lon: f64::from(lon) / 1e7,
                    lat: f64::from(lat) / 1e7,
                    altitude,
                    angle,
                    satellites,
                    speed_kmh,
                    event_io_id: ev,
                    generation_type: (codec == Codec::Codec16).then_some(g),
                    io,
                }
            },
        )
}

fn arb_packet() -> impl Strategy<Value = (Codec, Vec<Record>)> {
    prop_oneof![
        Just(Codec::Codec8),
        Just(Codec::Codec8E),
        Just(Codec::Codec16)
    ]
    .prop_flat_map(|c| (Just(c), proptest::collection::vec(arb_record(c), 1..5)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tcp_round_trip((codec, recs) in arb_packet()) {
        let frame = teltonika::encode_tcp_frame(codec, &recs).expect("encodable");
        let framed = teltonika::next_frame(&frame, 65536).expect("frames");
        let Framed::Data { payload, consumed } = framed else { panic!("data expected") };
        prop_assert_eq!(consumed, frame.len());
        let Ok(Payload::Avl(p)) = parse_payload(payload) else { panic!("AVL expected") };
        prop_assert_eq!(p.codec(), codec);
        prop_assert_eq!(p.to_records(), recs.clone());
        // The hot path's direct conversion agrees with the owned record's, plus priority and
        // event id, which the alarm purpose needs.
        for (view, rec) in p.records().zip(&recs) {
            let direct = view.to_fix();
            let mut via_record = rec.to_fix();
            let mut extra = Vec::new();
            if rec.priority != 0 {
                extra.push(domain::Attribute { key: AttrKey::Named("priority".into()), value: AttrValue::Int(i64::from(rec.priority)) });
            }
            if rec.event_io_id != 0 {
                extra.push(domain::Attribute { key: AttrKey::Named("event_io".into()), value: AttrValue::Int(i64::from(rec.event_io_id)) });
            }
            extra.append(&mut via_record.attributes);
            via_record.attributes = extra;
            prop_assert_eq!(direct, via_record);
        }
    }

    #[test]
    fn udp_round_trip((codec, recs) in arb_packet(), id in any::<u16>(), avl_id in any::<u8>()) {
        let imei = Imei::parse("352093086403655").expect("imei");
        let d = teltonika::encode_udp_packet(id, avl_id, imei, codec, &recs).expect("encodable");
        let p = parse_udp(&d).expect("valid");
        prop_assert_eq!((p.packet_id, p.avl_packet_id, p.imei), (id, avl_id, imei));
        prop_assert_eq!(p.avl.to_records(), recs);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = teltonika::next_frame(&bytes, 65536);
        let _ = parse_payload(&bytes);
        let _ = parse_udp(&bytes);
        let _ = teltonika::decode_json(&bytes);
    }

    /// Mutating a valid data field: either an error, or records whose every field comes from
    /// bytes of the frame (each record the decoder returns re-encodes to bytes found in it).
    #[test]
    fn mutated_frames_never_panic_nor_invent_records(
        (codec, recs) in arb_packet(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut payload = teltonika::encode_payload(codec, &recs).expect("encodable");
        for (i, b) in flips {
            let i = i.index(payload.len());
            payload[i] = b;
        }
        let len = if cut.index(4) == 0 { cut.index(payload.len() + 1) } else { payload.len() };
        let payload = &payload[..len];
        if let Ok(Payload::Avl(p)) = parse_payload(payload) {
            prop_assert!(p.len() * 30 <= payload.len());
            for r in p.records() {
                let count = r.io().count();
                prop_assert_eq!(count, usize::from(r.io_count()));
            }
            let owned = p.to_records();
            prop_assert_eq!(owned.len(), p.len());
            let again = teltonika::encode_payload(p.codec(), &owned);
            // Re-encoding what was read gives back exactly the bytes read (unless a time past
            // i64::MAX ms was saturated).
            let saturated = p.records().any(|r| i64::try_from(r.time_ms()).is_err());
            if let (Ok(again), false) = (again, saturated) {
                prop_assert_eq!(&again[..], payload);
            }
        }
        let _ = teltonika::decode_json(payload);
    }
}
