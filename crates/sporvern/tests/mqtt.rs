//! OwnTracks over MQTT against a real broker (Mosquitto): a location published with QoS 1 is
//! staged; the message is acknowledged only once it is durable, so a fix the server could not
//! store comes back from the broker and is stored when storage works again. The broker is
//! `SPORVERN_TEST_MQTT` (host:port, default 127.0.0.1:1883); without one the test says it is
//! skipping.

mod common;

use std::time::Duration;

use common::*;
use rumqttc::{AsyncClient, MqttOptions, QoS};

fn broker() -> Option<(String, u16)> {
    let addr = std::env::var("SPORVERN_TEST_MQTT").unwrap_or_else(|_| "127.0.0.1:1883".to_owned());
    let (host, port) = addr.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let reachable = std::net::TcpStream::connect_timeout(
        &std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
            .ok()?
            .next()?,
        Duration::from_secs(1),
    )
    .is_ok();
    if !reachable {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED MQTT test: no broker at {addr} (start Mosquitto, or set SPORVERN_TEST_MQTT=host:port)"
        );
        return None;
    }
    Some((host.to_owned(), port))
}

/// A phone publishing with QoS 1, the way the OwnTracks app does.
async fn phone(host: &str, port: u16, id: &str) -> AsyncClient {
    let mut options = MqttOptions::new(id, host, port);
    options.set_keep_alive(Duration::from_secs(10));
    let (client, mut events) = AsyncClient::new(options, 16);
    tokio::spawn(async move { while events.poll().await.is_ok() {} });
    client
}

async fn staged_soon(app: &TestApp, want: i64) -> bool {
    for _ in 0..100 {
        if app
            .staged()
            .iter()
            .any(|(id, t)| id == "ingrid/phone" && *t == want)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn owntracks_over_mqtt_is_staged_and_acknowledged_only_when_durable() {
    let Some((host, port)) = broker() else { return };
    // A topic and a client id of this run's own, so parallel runs do not meet.
    let run = format!(
        "sporvern-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let app = spawn_app(|s| {
        s.mqtt = Some(server::ingest::owntracks_mqtt::MqttSettings {
            host: host.clone(),
            port,
            topic: format!("{run}/owntracks/+/+"),
            client_id: format!("{run}-server"),
        });
    })
    .await;
    let phone = phone(&host, port, &format!("{run}-phone")).await;
    // Let the server's subscription land before publishing.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let location = |tst: i64| {
        format!(r#"{{"_type":"location","lat":59.95,"lon":10.8,"tst":{tst},"batt":80,"vel":30}}"#)
    };
    let t1 = 1_767_261_600;
    phone
        .publish(
            format!("{run}/owntracks/ingrid/phone"),
            QoS::AtLeastOnce,
            false,
            location(t1),
        )
        .await
        .expect("publish");
    assert!(staged_soon(&app, t1 * 1000).await, "the location is staged");

    // An unknown device is refused (and not delivered again and again).
    phone
        .publish(
            format!("{run}/owntracks/stranger/phone"),
            QoS::AtLeastOnce,
            false,
            location(t1 + 1),
        )
        .await
        .expect("publish");

    // Storage breaks under the running server: the fix is not acknowledged …
    {
        let conn = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("open");
        conn.execute_batch("ALTER TABLE staged_fix RENAME TO staged_fix_away")
            .expect("break staging");
    }
    let t2 = t1 + 60;
    phone
        .publish(
            format!("{run}/owntracks/ingrid/phone"),
            QoS::AtLeastOnce,
            false,
            location(t2),
        )
        .await
        .expect("publish");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // … and once storage works again, the broker delivers it again and it is stored.
    {
        let conn = rusqlite::Connection::open(app.data().join("sporvern.db")).expect("open");
        conn.execute_batch("ALTER TABLE staged_fix_away RENAME TO staged_fix")
            .expect("repair staging");
    }
    assert!(
        staged_soon(&app, t2 * 1000).await,
        "the fix that failed came back from the broker and was stored"
    );
    assert!(
        !app.staged().iter().any(|(id, _)| id == "stranger/phone"),
        "nothing from an unknown device"
    );
}
