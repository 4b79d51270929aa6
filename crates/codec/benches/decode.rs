//! Decoding speed against the peer decoder, nom-teltonika 0.3, on the same frames.
//!
//! `cargo bench -p codec --bench decode`. A plain main timing loops with `Instant`: one core,
//! CRC checked, every record field and every IO element visited and summed into a black box.
//! Ours: the zero-copy view (the server's hot path) and the owned `Record`s. The peer:
//! `parse_frame` then `evaluate()` into owned records (as measured in MEASURED.md), and its
//! view for reference.

use std::hint::black_box;
use std::time::{Duration, Instant};

use codec::teltonika::{self, Codec, Framed, IoValue, IoValueRef, Payload};

const CODEC8: &str = "000000000000004c08010000016818d500580009c28d9f1cb3757a00be00c60f0053000f06f0011503c80001011d00fc0007423799180053cdf80dce426f430f88190bb8560bb802f100005aa110002887e000010000ee8d";
const CODEC8E: &str = "00000000000000818e0100000166e368a510000f0d8b5b20961c35008d010308000000000014000900ef0000f00100500100150400c800004501001e00002500002900000a00b5000800b60007004230dc0018000000430fcb0044005f001103de001200e50013001200240000000000000001010000113141314a433534343452373235323336370100005e99";

fn ours_view(frame: &[u8]) -> u64 {
    let Ok(Framed::Data { payload, .. }) = teltonika::next_frame(frame, 65536) else {
        return 0;
    };
    let Ok(Payload::Avl(p)) = teltonika::parse_payload(payload) else {
        return 0;
    };
    let mut sum = 0u64;
    for r in p.records() {
        sum = sum
            .wrapping_add(r.time_ms())
            .wrapping_add(u64::from(r.priority()))
            .wrapping_add(r.lon_raw() as u64)
            .wrapping_add(r.lat_raw() as u64)
            .wrapping_add(r.altitude() as u64)
            .wrapping_add(u64::from(r.angle()))
            .wrapping_add(u64::from(r.satellites()))
            .wrapping_add(u64::from(r.speed_kmh()))
            .wrapping_add(u64::from(r.event_io_id()))
            .wrapping_add(u64::from(r.generation_type().unwrap_or(0)));
        for (id, v) in r.io() {
            let v = match v {
                IoValueRef::U8(v) => u64::from(v),
                IoValueRef::U16(v) => u64::from(v),
                IoValueRef::U32(v) => u64::from(v),
                IoValueRef::U64(v) => v,
                IoValueRef::Bytes(b) => b.len() as u64,
            };
            sum = sum.wrapping_add(u64::from(id)).wrapping_add(v);
        }
    }
    sum
}

fn ours_owned(frame: &[u8]) -> u64 {
    let Ok(Framed::Data { payload, .. }) = teltonika::next_frame(frame, 65536) else {
        return 0;
    };
    let Ok(Payload::Avl(p)) = teltonika::parse_payload(payload) else {
        return 0;
    };
    let mut sum = 0u64;
    for r in p.to_records() {
        sum = sum
            .wrapping_add(r.time.millis() as u64)
            .wrapping_add(u64::from(r.priority))
            .wrapping_add((r.lon * 1e7).round() as i32 as u64)
            .wrapping_add((r.lat * 1e7).round() as i32 as u64)
            .wrapping_add(r.altitude as u64)
            .wrapping_add(u64::from(r.angle))
            .wrapping_add(u64::from(r.satellites))
            .wrapping_add(u64::from(r.speed_kmh))
            .wrapping_add(u64::from(r.event_io_id));
        for (id, v) in &r.io {
            let v = match v {
                IoValue::U8(v) => u64::from(*v),
                IoValue::U16(v) => u64::from(*v),
                IoValue::U32(v) => u64::from(*v),
                IoValue::U64(v) => *v,
                IoValue::Bytes(b) => b.len() as u64,
            };
            sum = sum.wrapping_add(u64::from(*id)).wrapping_add(v);
        }
    }
    sum
}

fn peer_value(v: &nom_teltonika::protocol::IoValue) -> u64 {
    use nom_teltonika::protocol::IoValue as V;
    match v {
        V::U8(v) => u64::from(*v),
        V::U16(v) => u64::from(*v),
        V::U32(v) => u64::from(*v),
        V::U64(v) => *v,
        V::Bytes(b) => b.len() as u64,
        #[allow(unreachable_patterns)]
        _ => 0,
    }
}

fn peer_owned(frame: &[u8]) -> u64 {
    use nom_teltonika::protocol::Frame;
    let Ok((_, f)) = nom_teltonika::decoder::parse_frame(frame) else {
        return 0;
    };
    let Frame::Avl(p) = f.evaluate() else {
        return 0;
    };
    let mut sum = 0u64;
    for r in p.records() {
        let g = r.gps();
        sum = sum
            .wrapping_add(u64::from(r.timestamp()))
            .wrapping_add(u64::from(u8::from(r.priority())))
            .wrapping_add(g.longitude_raw as u64)
            .wrapping_add(g.latitude_raw as u64)
            .wrapping_add(u64::from(g.altitude_meters))
            .wrapping_add(u64::from(g.angle_degrees))
            .wrapping_add(u64::from(g.satellites))
            .wrapping_add(u64::from(g.speed_kph))
            .wrapping_add(r.event_io_id().map_or(0, |i| u64::from(u16::from(i))))
            .wrapping_add(r.generation_type().map_or(0, |g| u64::from(u8::from(g))));
        for e in r.io_elements() {
            sum = sum
                .wrapping_add(u64::from(u16::from(e.id())))
                .wrapping_add(peer_value(e.value()));
        }
    }
    sum
}

fn peer_view(frame: &[u8]) -> u64 {
    use nom_teltonika::protocol::{FrameView, IoValueView as V};
    let Ok((_, FrameView::Avl(p))) = nom_teltonika::decoder::parse_frame(frame) else {
        return 0;
    };
    let mut sum = 0u64;
    for r in p.records() {
        let g = r.gps();
        sum = sum
            .wrapping_add(u64::from(r.timestamp()))
            .wrapping_add(u64::from(u8::from(r.priority())))
            .wrapping_add(g.longitude_raw as u64)
            .wrapping_add(g.latitude_raw as u64)
            .wrapping_add(u64::from(g.altitude_meters))
            .wrapping_add(u64::from(g.angle_degrees))
            .wrapping_add(u64::from(g.satellites))
            .wrapping_add(u64::from(g.speed_kph))
            .wrapping_add(r.event_io_id().map_or(0, |i| u64::from(u16::from(i))))
            .wrapping_add(r.generation_type().map_or(0, |g| u64::from(u8::from(g))));
        for e in r.io_elements() {
            let v = match e.value() {
                V::U8(v) => u64::from(v),
                V::U16(v) => u64::from(v),
                V::U32(v) => u64::from(v),
                V::U64(v) => v,
                V::Bytes(b) => b.len() as u64,
                #[allow(unreachable_patterns)]
                _ => 0,
            };
            sum = sum
                .wrapping_add(u64::from(u16::from(e.id())))
                .wrapping_add(v);
        }
    }
    sum
}

/// How many calls of `f` take about 50 ms.
fn calibrate(frame: &[u8], f: fn(&[u8]) -> u64) -> u64 {
    let mut iters: u64 = 1000;
    loop {
        let t = Instant::now();
        for _ in 0..iters {
            black_box(f(black_box(frame)));
        }
        if t.elapsed() > Duration::from_millis(50) {
            return iters;
        }
        iters *= 2;
    }
}

/// Records per second of each decoder, the best of 9 rounds that alternate between them, so
/// that noise from other processes on this shared machine hits them alike.
fn measure_all<const N: usize>(
    frame: &[u8],
    records: usize,
    fs: [fn(&[u8]) -> u64; N],
) -> [f64; N] {
    let iters = fs.map(|f| calibrate(frame, f) * 4);
    let mut best = [0.0f64; N];
    for _ in 0..9 {
        for (i, f) in fs.iter().enumerate() {
            let t = Instant::now();
            for _ in 0..iters[i] {
                black_box(f(black_box(frame)));
            }
            let rate = (iters[i] as f64 * records as f64) / t.elapsed().as_secs_f64();
            best[i] = best[i].max(rate);
        }
    }
    best
}

fn measure(frame: &[u8], records: usize, f: fn(&[u8]) -> u64) -> f64 {
    measure_all(frame, records, [f])[0]
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
        .collect()
}

fn main() {
    let c8 = hex(CODEC8);
    let c8e = hex(CODEC8E);
    // A 2-record Codec 8E frame: the sample record twice, one second apart.
    let c8e2 = {
        let Ok(Framed::Data { payload, .. }) = teltonika::next_frame(&c8e, 65536) else {
            panic!("the 8E sample does not frame")
        };
        let Ok(Payload::Avl(p)) = teltonika::parse_payload(payload) else {
            panic!("the 8E sample does not decode")
        };
        let mut recs = p.to_records();
        let mut second = recs[0].clone();
        second.time = domain::Timestamp::from_millis(second.time.millis() + 1000);
        recs.push(second);
        teltonika::encode_tcp_frame(Codec::Codec8E, &recs).expect("encodes")
    };
    let frames: [(&str, &[u8], usize); 3] = [
        ("Codec 8, 1 record, 15 IO", &c8, 1),
        ("Codec 8E, 1 record, 20 IO + VIN", &c8e, 1),
        ("Codec 8E, 2 records", &c8e2, 2),
    ];
    for (name, frame, _) in &frames {
        let (a, b, c) = (ours_view(frame), ours_owned(frame), peer_owned(frame));
        let d = peer_view(frame);
        assert!(
            a != 0 && a == b && b == c && c == d,
            "{name}: results differ: {a} {b} {c} {d}"
        );
    }
    if std::env::var_os("BREAKDOWN").is_some() {
        for (name, frame, n) in frames {
            let crc = measure(frame, n, |f| {
                u64::from(teltonika::crc16(&f[8..f.len() - 4]))
            });
            let parse = measure(frame, n, |f| match teltonika::next_frame(f, 65536) {
                Ok(Framed::Data { payload, .. }) => match teltonika::parse_payload(payload) {
                    Ok(Payload::Avl(p)) => p.len() as u64,
                    _ => 0,
                },
                _ => 0,
            });
            println!(
                "{name}: crc {:.1} ns, frame+validate {:.1} ns, full {:.1} ns",
                1e9 * n as f64 / crc,
                1e9 * n as f64 / parse,
                1e9 * n as f64 / measure(frame, n, ours_view)
            );
        }
    }
    println!(
        "| frame | bytes | ours, view (rec/s) | ours, owned (rec/s) | peer, parse+evaluate (rec/s) | peer, view (rec/s) | view ÷ peer evaluate |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, frame, n) in frames {
        let [ov, oo, pe, pv] =
            measure_all(frame, n, [ours_view, ours_owned, peer_owned, peer_view]);
        println!(
            "| {name} | {} | {:.1} M | {:.1} M | {:.1} M | {:.1} M | {:.1}× |",
            frame.len(),
            ov / 1e6,
            oo / 1e6,
            pe / 1e6,
            pv / 1e6,
            ov / pe
        );
    }
}
