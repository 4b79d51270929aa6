//! Notifications outward, against receivers this test starts on 127.0.0.1: an SMTP sink and
//! an HTTP listener. A real Teltonika panic opens an alarm window; the security staff get an
//! e-mail and a signed webhook, each after one refused attempt (so the retry is exercised);
//! both are on the audit ledger, and neither the messages nor the ledger carry a position.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use codec::teltonika::IoValue;
use common::{TELTONIKA_IMEI, Teltonika, frame, record, spawn_app};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const SECRET: &str = "a shared secret of the receiver";
/// Where the panicking van is: none of these digits may leave the server.
const LAT: f64 = 59.876_543;
const LON: f64 = 10.812_345;

/// HMAC-SHA256 (RFC 2104), written out here so the test does not trust the server's own.
fn hmac(key: &[u8], msg: &[u8]) -> String {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize();
    hex::encode(outer)
}

/// A minimal SMTP server: the first connection is turned away (421), later ones accept mail.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
    let port = listener.local_addr().expect("addr").port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let got = mails.clone();
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let (r, mut w) = sock.into_split();
            if first {
                first = false;
                let _ = w.write_all(b"421 sink busy, try again later\r\n").await;
                continue;
            }
            let got = got.clone();
            tokio::spawn(async move {
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.to_ascii_uppercase();
                    if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                        let _ = w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await;
                    } else if cmd.starts_with("DATA") {
                        let _ = w.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                        let mut mail = String::new();
                        loop {
                            line.clear();
                            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                            mail.push_str(&line);
                        }
                        got.lock().expect("lock").push(mail);
                        let _ = w.write_all(b"250 queued\r\n").await;
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        let _ = w.write_all(b"250 OK\r\n").await;
                    }
                }
            });
        }
    });
    (port, mails)
}

/// An HTTP listener: answers the first request 503, later ones 200; keeps (headers, body).
async fn webhook_listener() -> (u16, Arc<Mutex<Vec<(String, Vec<u8>)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
    let port = listener.local_addr().expect("addr").port();
    let hooks = Arc::new(Mutex::new(Vec::new()));
    let got = hooks.clone();
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), Vec::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < end + 4 + len {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    break (head, buf[end + 4..].to_vec());
                }
            };
            let status = if first {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            if !first {
                got.lock().expect("lock").push((head, body));
            }
            first = false;
            let _ = sock
                .write_all(
                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await;
        }
    });
    (port, hooks)
}

#[tokio::test]
async fn an_alarm_tells_security_by_email_and_signed_webhook_and_the_ledger_has_no_position() {
    let (smtp_port, mails) = smtp_sink().await;
    let (hook_port, hooks) = webhook_listener().await;
    let app = spawn_app(|s| {
        s.notify = server::notify::NotifySettings {
            base_url: Some("https://sporvern.example.no".into()),
            smtp: Some(server::notify::SmtpSettings {
                host: "127.0.0.1".into(),
                port: smtp_port,
                tls: server::notify::SmtpTls::None,
                username: None,
                password: None,
                from: "Sporvern <alarm@example.no>".into(),
                to: vec!["vakt@example.no".into()],
            }),
            webhook: Some(server::notify::WebhookSettings {
                url: format!("http://127.0.0.1:{hook_port}/hooks/sporvern?token=x"),
                secret: server::notify::Secret(SECRET.into()),
            }),
            attempts: 3,
            first_retry: Duration::from_millis(200),
        };
    })
    .await;

    // The driver presses the panic button (DIN1) on the van's Teltonika unit.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let mut panic = record(now - 1_000, LAT, LON);
    panic.io.push((1, IoValue::U8(1)));
    let (mut dev, _) = Teltonika::login(app.teltonika, TELTONIKA_IMEI).await;
    dev.send(&frame(&[panic])).await;
    assert_eq!(dev.ack().await, Some(1));

    for _ in 0..150 {
        if !mails.lock().expect("lock").is_empty() && !hooks.lock().expect("lock").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mails = mails.lock().expect("lock").clone();
    let hooks = hooks.lock().expect("lock").clone();
    assert_eq!(mails.len(), 1, "one e-mail after the refused first try");
    assert_eq!(hooks.len(), 1, "one webhook after the 503");

    let mail = &mails[0];
    assert!(
        mail.contains("Subject: Alarm: EK12345 - panikknapp"),
        "{mail}"
    );
    assert!(mail.contains("vakt@example.no"), "{mail}");
    assert!(
        mail.contains("https://sporvern.example.no/alarms#alarm-"),
        "{mail}"
    );
    for digits in ["59.87", "10.81", "876543", "812345"] {
        assert!(!mail.contains(digits), "no position in the e-mail: {mail}");
    }

    let (head, body) = &hooks[0];
    assert!(head.starts_with("POST /hooks/sporvern?token=x"), "{head}");
    let sig = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("x-sporvern-signature")
                .then(|| v.trim().to_owned())
        })
        .expect("a signature header");
    assert_eq!(sig, format!("sha256={}", hmac(SECRET.as_bytes(), body)));
    assert_ne!(
        sig,
        format!("sha256={}", hmac(b"another secret entirely", body)),
        "the signature depends on the secret"
    );
    let json: serde_json::Value = serde_json::from_slice(body).expect("json body");
    assert_eq!(json["event"], "alarm.opened");
    assert_eq!(json["vehicle"], "EK12345");
    assert_eq!(json["triggers"], serde_json::json!(["panic"]));
    let text = String::from_utf8_lossy(body);
    for digits in ["59.87", "10.81"] {
        assert!(!text.contains(digits), "no position in the webhook: {text}");
    }

    // Both notifications are on the ledger: who was told, by which channel, when, that it
    // arrived on the second attempt — and no position, no secret, no query string.
    let store = storage::open(app.data()).expect("open");
    let mut told = Vec::new();
    for _ in 0..50 {
        told = store
            .audit_entries()
            .expect("ledger")
            .into_iter()
            .filter(|e| e.entry.actor == "sporvern (notifications)")
            .collect::<Vec<_>>();
        if told.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(told.len(), 2, "{told:#?}");
    let mut objects: Vec<String> = told.iter().map(|e| e.entry.object.clone()).collect();
    objects.sort();
    assert!(
        objects[0].ends_with("notified: e-mail to vakt@example.no"),
        "{objects:?}"
    );
    assert!(
        objects[1].ends_with(&format!(
            "notified: webhook to http://127.0.0.1:{hook_port}/hooks/sporvern"
        )),
        "{objects:?}"
    );
    for e in &told {
        assert_eq!(e.entry.purpose, "alarm");
        assert_eq!(e.entry.outcome, "sent (attempt 2)");
        let all = format!("{:?}", e.entry);
        for leak in ["59.87", "10.81", "876543", "812345", SECRET, "token=x"] {
            assert!(!all.contains(leak), "{leak} in the ledger: {all}");
        }
    }
}
