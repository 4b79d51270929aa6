//! The real server on port 0, spoken to over the real protocols.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

const T0: i64 = 1_767_261_600_000; // 2026-01-01T10:00:00Z

#[tokio::test]
async fn teltonika_session_acks_only_what_is_stored_and_stores_resends_once() {
    let app = spawn_app(|_| {}).await;
    let (mut dev, answer) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    assert_eq!(answer, 0x01, "a registered IMEI is accepted");

    let batch: Vec<_> = (0..5)
        .map(|i| record(T0 + i * 1000, 59.91, 10.75))
        .collect();
    dev.send(&frame(&batch)).await;
    assert_eq!(dev.ack().await, Some(5));
    // Keep-alive byte in between is ignored.
    dev.send(&[0xFF]).await;
    // The device did not get the ACK (say) and resends, plus two new records.
    let mut resend = batch.clone();
    resend.push(record(T0 + 5000, 59.92, 10.76));
    resend.push(record(T0 + 6000, 59.93, 10.77));
    dev.send(&frame(&resend)).await;
    assert_eq!(dev.ack().await, Some(7), "duplicates are acknowledged too");

    let staged = app.staged();
    assert_eq!(
        staged.len(),
        7,
        "each (device, fix time) stored once: {staged:?}"
    );
    assert!(staged.iter().all(|(id, _)| id == TELTONIKA_IMEI));
    assert_eq!(staged.first().map(|s| s.1), Some(T0));
}

#[tokio::test]
async fn unknown_imei_is_refused_with_00() {
    let app = spawn_app(|_| {}).await;
    let (mut dev, answer) = Teltonika::login(app.teltonika, "999999999999999").await;
    assert_eq!(answer, 0x00);
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), dev.stream.read_to_end(&mut rest)).await;
    assert!(
        matches!(n, Ok(Ok(0)) | Ok(Err(_))),
        "connection closed after the refusal"
    );
    assert!(app.staged().is_empty());
}

#[tokio::test]
async fn bad_crc_closes_the_connection_without_ack_and_stores_nothing() {
    let app = spawn_app(|_| {}).await;
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    let mut f = frame(&[record(T0, 59.91, 10.75)]);
    let last = f.len() - 1;
    f[last] ^= 0x55;
    dev.send(&f).await;
    assert_eq!(dev.ack().await, None, "no ACK for a corrupt frame");
    assert!(
        app.staged().is_empty(),
        "nothing from a corrupt frame is stored"
    );
}

#[tokio::test]
async fn wrong_counts_and_oversize_lengths_are_refused() {
    let app = spawn_app(|_| {}).await;
    // Oversize: a data length of 16 MiB.
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    dev.send(&[0, 0, 0, 0, 0x01, 0, 0, 0, 0x08]).await;
    assert_eq!(dev.ack().await, None);
    // Mismatched record counts, with a CRC that matches the bytes.
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    let mut f = frame(&[record(T0, 59.91, 10.75)]);
    let second_count = f.len() - 5;
    f[second_count] = 2;
    let crc = codec::teltonika::crc16(&f[8..f.len() - 4]);
    let n = f.len();
    f[n - 4..].copy_from_slice(&u32::from(crc).to_be_bytes());
    dev.send(&f).await;
    assert_eq!(dev.ack().await, None);
    assert!(app.staged().is_empty());
}

#[tokio::test]
async fn random_bytes_on_one_connection_do_not_disturb_another_device() {
    let app = spawn_app(|_| {}).await;
    let (mut good, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    let mut noise = TcpStream::connect(app.teltonika).await.expect("connect");
    let mut x: u32 = 0x1234_5678;
    let junk: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let _ = noise.write_all(&junk).await;
    good.send(&frame(&[record(T0, 59.91, 10.75)])).await;
    assert_eq!(good.ack().await, Some(1));
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), noise.read_to_end(&mut sink)).await;
    assert!(closed.is_ok(), "the noisy connection is closed");
}

#[tokio::test]
async fn silent_connections_are_closed_after_the_first_byte_timeout() {
    let app = spawn_app(|s| s.first_byte_timeout = Duration::from_millis(300)).await;
    let mut silent = TcpStream::connect(app.teltonika).await.expect("connect");
    let mut buf = [0u8; 1];
    let r = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf)).await;
    assert!(
        matches!(r, Ok(Ok(0)) | Ok(Err(_))),
        "closed by the server: {r:?}"
    );
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_and_others_keep_working() {
    let app = spawn_app(|s| s.max_connections = 2).await;
    let (mut a, answer) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    assert_eq!(answer, 1);
    let (_b, _) = Teltonika::login(app.teltonika, "356307042441013").await;
    let (_c, answer) = Teltonika::login(app.teltonika, "356307042441013").await;
    assert_eq!(
        answer, 0xEE,
        "the third connection is closed without a login answer"
    );
    a.send(&frame(&[record(T0, 59.91, 10.75)])).await;
    assert_eq!(a.ack().await, Some(1));
}

#[tokio::test]
async fn teltonika_udp_is_acknowledged_after_storing() {
    let app = spawn_app(|_| {}).await;
    let sock = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let imei = domain::Imei::parse(TELTONIKA_IMEI).expect("imei");
    let packet = codec::teltonika::encode_udp_packet(
        0xCAFE,
        7,
        imei,
        codec::teltonika::Codec::Codec8,
        &[record(T0, 59.91, 10.75), record(T0 + 1000, 59.91, 10.76)],
    )
    .expect("encode");
    sock.send_to(&packet, app.teltonika).await.expect("send");
    let mut buf = [0u8; 64];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .expect("ack in time")
        .expect("recv");
    assert_eq!(&buf[..n], &[0x00, 0x05, 0xCA, 0xFE, 0x01, 0x07, 0x02]);
    assert_eq!(app.staged().len(), 2);
}

#[tokio::test]
async fn osmand_get_post_form_and_json_are_stored() {
    let app = spawn_app(|_| {}).await;
    let get = http(app.osmand, "GET", "/?id=123456&timestamp=1767261600&lat=59.91&lon=10.75&speed=10.0&bearing=90&altitude=20&batt=80", &[], b"").await;
    assert_eq!(get.map(|r| r.0), Some(200));
    let form = b"id=123456&timestamp=1767261601&lat=59.911&lon=10.751&speed=12.0";
    let post = http(
        app.osmand,
        "POST",
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form,
    )
    .await;
    assert_eq!(post.map(|r| r.0), Some(200));
    let json = br#"{"location":{"timestamp":"2026-01-01T10:00:02.000Z","coords":{"latitude":59.912,"longitude":10.752,"accuracy":5,"speed":3.5,"heading":90,"altitude":20},"is_moving":true,"odometer":1200,"event":"motionchange","battery":{"level":0.8,"is_charging":false},"activity":{"type":"in_vehicle"}},"device_id":"123456"}"#;
    let post = http(
        app.osmand,
        "POST",
        "/",
        &[("Content-Type", "application/json")],
        json,
    )
    .await;
    assert_eq!(post.map(|r| r.0), Some(200));
    let staged: Vec<_> = app
        .staged()
        .into_iter()
        .filter(|(id, _)| id == "123456")
        .map(|s| s.1)
        .collect();
    assert_eq!(staged, vec![T0, T0 + 1000, T0 + 2000]);
}

#[tokio::test]
async fn osmand_unknown_or_missing_id_is_refused() {
    let app = spawn_app(|_| {}).await;
    let unknown = http(
        app.osmand,
        "GET",
        "/?id=777&timestamp=1767261600&lat=59.91&lon=10.75",
        &[],
        b"",
    )
    .await;
    let (status, body) = unknown.expect("answer");
    assert_eq!(status, 404);
    assert!(body.contains("unknown device id"), "{body}");
    let missing = http(
        app.osmand,
        "GET",
        "/?timestamp=1767261600&lat=59.91&lon=10.75",
        &[],
        b"",
    )
    .await;
    assert_eq!(missing.map(|r| r.0), Some(400));
    let garbage = http(
        app.osmand,
        "POST",
        "/",
        &[("Content-Type", "application/json")],
        b"{not json",
    )
    .await;
    assert_eq!(garbage.map(|r| r.0), Some(400));
    assert!(app.staged().is_empty());
}

#[tokio::test]
async fn owntracks_location_is_stored_and_answered_with_an_empty_array() {
    let app = spawn_app(|_| {}).await;
    let body = br#"{"_type":"location","lat":59.95,"lon":10.8,"tst":1767261600,"acc":10,"vel":40,"batt":70,"tid":"ib"}"#;
    let ok = http(
        app.http,
        "POST",
        "/owntracks",
        &[("X-Limit-U", "ingrid"), ("X-Limit-D", "phone")],
        body,
    )
    .await;
    assert_eq!(ok, Some((200, "[]".to_owned())));
    let lwt = http(
        app.http,
        "POST",
        "/owntracks",
        &[("X-Limit-U", "ingrid"), ("X-Limit-D", "phone")],
        br#"{"_type":"lwt","tst":1767261600}"#,
    )
    .await;
    assert_eq!(lwt.map(|r| r.0), Some(200));
    let stranger = http(
        app.http,
        "POST",
        "/owntracks",
        &[("X-Limit-U", "mallory"), ("X-Limit-D", "phone")],
        body,
    )
    .await;
    assert_eq!(stranger.map(|r| r.0), Some(403));
    assert_eq!(app.staged(), vec![("ingrid/phone".to_owned(), T0)]);
}

#[tokio::test]
async fn health_and_metrics_are_served() {
    let app = spawn_app(|_| {}).await;
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    dev.send(&frame(&[
        record(T0, 59.91, 10.75),
        record(T0, 59.91, 10.75),
    ]))
    .await;
    assert_eq!(dev.ack().await, Some(2));
    assert_eq!(
        http(app.http, "GET", "/healthz", &[], b"")
            .await
            .map(|r| r.0),
        Some(200)
    );
    let (status, metrics) = http(app.http, "GET", "/metrics", &[], b"")
        .await
        .expect("metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("sporvern_records_acknowledged_total{protocol=\"teltonika\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sporvern_records_duplicated_total{protocol=\"teltonika\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sporvern_commit_batch_rows_count"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_field_inventory_lists_what_a_device_sends() {
    let app = spawn_app(|_| {}).await;
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    dev.send(&frame(&[record(T0, 59.91, 10.75)])).await;
    assert_eq!(dev.ack().await, Some(1));
    let store = storage::open(app.data()).expect("open");
    let device = store
        .devices()
        .expect("devices")
        .into_iter()
        .find(|d| d.external_id.as_str() == TELTONIKA_IMEI)
        .expect("registered");
    let kinds: Vec<(String, &str)> = store
        .inventory(device.id)
        .expect("inventory")
        .into_iter()
        .map(|e| (e.key, e.kind.as_str()))
        .collect();
    for expected in [
        ("io:239", "ignition"),
        ("io:16", "odometer"),
        ("io:85", "rpm"),
        ("position", "position"),
        ("speed", "speed"),
    ] {
        assert!(
            kinds
                .iter()
                .any(|(k, kind)| k == expected.0 && *kind == expected.1),
            "{expected:?} missing from {kinds:?}"
        );
    }
}

#[tokio::test]
async fn a_storage_failure_acknowledges_nothing_on_any_protocol() {
    let app = spawn_app(|_| {}).await;
    // Prove the path works, then break storage underneath the running server.
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    dev.send(&frame(&[record(T0, 59.91, 10.75)])).await;
    assert_eq!(dev.ack().await, Some(1));
    {
        let conn = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("open");
        conn.execute_batch("ALTER TABLE staged_fix RENAME TO staged_fix_away")
            .expect("break staging");
    }
    dev.send(&frame(&[record(T0 + 1000, 59.91, 10.75)])).await;
    assert_eq!(
        dev.ack().await,
        None,
        "Teltonika: no ACK, connection closed"
    );

    let get = http(
        app.osmand,
        "GET",
        "/?id=123456&timestamp=1767261600&lat=59.91&lon=10.75",
        &[],
        b"",
    )
    .await;
    assert_eq!(
        get.map(|r| r.0),
        Some(503),
        "OsmAnd: not 200, so the app resends"
    );

    let body = br#"{"_type":"location","lat":59.95,"lon":10.8,"tst":1767261600}"#;
    let answer = http(
        app.http,
        "POST",
        "/owntracks",
        &[("X-Limit-U", "ingrid"), ("X-Limit-D", "phone")],
        body,
    )
    .await;
    assert_eq!(
        answer, None,
        "OwnTracks: the connection is closed without any answer"
    );
}

#[tokio::test]
async fn a_device_added_to_the_organisation_is_accepted_without_a_restart() {
    let app = spawn_app(|_| {}).await;
    let newcomer = "490154203237518";
    let (_, answer) = Teltonika::login(app.teltonika, newcomer).await;
    assert_eq!(answer, 0x00, "not registered yet");
    let mut org = org::parse(EXAMPLE_ORG).expect("example");
    org.devices.push(org::Device {
        protocol: domain::Protocol::Teltonika,
        external_id: domain::ExternalId::parse(domain::Protocol::Teltonika, newcomer)
            .expect("imei"),
        vehicle: domain::RegNo::parse("BR 34567").expect("reg"),
        model: Some("FMC130".into()),
        privacy_input: None,
        panic_input: None,
        virtual_odometer: false,
        rank: None,
    });
    storage::open(app.data())
        .expect("open")
        .apply_org(&org)
        .expect("apply");
    let mut accepted = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if Teltonika::login(app.teltonika, newcomer).await.1 == 0x01 {
            accepted = true;
            break;
        }
    }
    assert!(accepted, "the running server reloads the organisation");
}
