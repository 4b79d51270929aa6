//! Durable group commits into the staging area, alone: rows/s by batch size, 1,000 devices
//! interleaved, time increasing — the writer's ceiling without any network in front of it.
//! `cargo bench -p storage --bench staging`

use std::time::Instant;

use domain::{AttrKey, AttrValue, Attribute, DeviceId, Fix, Position, Timestamp};
use storage::StagedFix;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = storage::open(dir.path()).expect("open");
    let mut writer = store.ingest_writer().expect("writer");
    let attrs: Vec<Attribute> = [
        (239, 1),
        (240, 1),
        (21, 4),
        (66, 13_800),
        (16, 1_234_567),
        (24, 54),
        (85, 2_100),
        (89, 63),
    ]
    .into_iter()
    .map(|(k, v)| Attribute {
        key: AttrKey::Io(k),
        value: AttrValue::Int(v),
    })
    .collect();
    let mut t = 1_767_261_600_000i64;
    println!("Time-major: each commit holds one instant for up to 1,000 devices (appends).");
    println!(
        "{:>12} {:>10} {:>14} {:>12}",
        "rows/commit", "commits", "rows/s", "ms/commit"
    );
    for batch in [100usize, 1_000, 5_000, 20_000] {
        let commits = (200_000 / batch).max(10);
        let started = Instant::now();
        for _ in 0..commits {
            let rows: Vec<StagedFix> = (0..batch)
                .map(|i| {
                    let device = DeviceId((i % 1000) as i64 + 1);
                    if i % 1000 == 0 {
                        t += 1000;
                    }
                    StagedFix {
                        device,
                        received_at: Timestamp::from_millis(t),
                        fix: Fix {
                            time: Timestamp::from_millis(t),
                            position: Position::new(59.9 + i as f64 * 1e-6, 10.7),
                            altitude_m: Some(40.0),
                            course_deg: Some(90),
                            satellites: Some(11),
                            speed_kmh: Some(54.0),
                            attributes: attrs.clone(),
                        },
                    }
                })
                .collect();
            writer.commit(&rows, &[]).expect("commit");
        }
        let secs = started.elapsed().as_secs_f64();
        let rows = (commits * batch) as f64;
        println!(
            "{batch:>12} {commits:>10} {:>14.0} {:>12.2}",
            rows / secs,
            secs * 1000.0 / commits as f64
        );
    }

    // Device frames: each device sends 20 records a second apart per frame, and all devices
    // report about "now" — so every commit lands across the last ~20 s of the index.
    println!("Device frames: 20 records per device per frame, 1,000 devices reporting about now.");
    println!(
        "{:>12} {:>10} {:>14} {:>12}",
        "rows/commit", "commits", "rows/s", "ms/commit"
    );
    let base = t + 10_000_000;
    for frames_per_commit in [50usize, 250, 1_000] {
        let mut frame_no = vec![0i64; 1000];
        let commits = (400_000 / (frames_per_commit * 20)).max(10);
        let mut next_device = 0usize;
        let started = Instant::now();
        for _ in 0..commits {
            let mut rows = Vec::with_capacity(frames_per_commit * 20);
            for _ in 0..frames_per_commit {
                let d = next_device % 1000;
                next_device += 1;
                let k = frame_no[d];
                frame_no[d] += 1;
                for i in 0..20 {
                    let time = base + (k * 20 + i) * 1000 + d as i64;
                    rows.push(StagedFix {
                        device: DeviceId(d as i64 + 1),
                        received_at: Timestamp::from_millis(time),
                        fix: Fix {
                            time: Timestamp::from_millis(time),
                            position: Position::new(59.9, 10.7),
                            altitude_m: Some(40.0),
                            course_deg: Some(90),
                            satellites: Some(11),
                            speed_kmh: Some(54.0),
                            attributes: attrs.clone(),
                        },
                    });
                }
            }
            writer.commit(&rows, &[]).expect("commit");
        }
        let secs = started.elapsed().as_secs_f64();
        let n = (commits * frames_per_commit * 20) as f64;
        println!(
            "{:>12} {commits:>10} {:>14.0} {:>12.2}",
            frames_per_commit * 20,
            n / secs,
            secs * 1000.0 / commits as f64
        );
    }
}
