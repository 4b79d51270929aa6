//! Teltonika over TCP and UDP: IMEI handshake, AVL frames, ACK = records durably stored.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use codec::teltonika::{self as tk, Framed, Payload};
use domain::{DeviceId, ExternalId, Protocol};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::time::timeout_at;

use super::{Ingestor, Registry};

#[derive(Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub first_byte_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_frame_bytes: usize,
}

#[derive(Clone)]
pub struct Context {
    pub ingestor: Ingestor,
    pub registry: Registry,
    pub limits: Limits,
}

pub async fn serve_tcp(listener: TcpListener, ctx: Context) {
    let permits = Arc::new(Semaphore::new(ctx.limits.max_connections));
    let counters = || ctx.ingestor.metrics().protocol(Protocol::Teltonika);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                if let Some(more) = crate::throttle::allow("teltonika: accept failed") {
                    tracing::warn!(error = %e, failed_since_last = more, "teltonika accept failed");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            counters().connections_refused.fetch_add(1, Relaxed);
            if let Some(more) = crate::throttle::allow("teltonika: connection cap reached") {
                tracing::warn!(%peer, max = ctx.limits.max_connections, refused_since_last = more, "teltonika connection refused: connection cap reached");
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let c = ctx.ingestor.metrics().protocol(Protocol::Teltonika);
            c.connections_total.fetch_add(1, Relaxed);
            c.connections_open.fetch_add(1, Relaxed);
            handle_connection(stream, peer, &ctx).await;
            c.connections_open.fetch_sub(1, Relaxed);
            drop(permit);
        });
    }
}

/// Why a connection ended, for the log line.
enum End {
    Closed,
    Silent(&'static str),
    Io(std::io::Error),
    Bad(tk::DecodeError),
    Refused,
    NotStored(super::IngestError),
}

async fn handle_connection(mut stream: TcpStream, peer: SocketAddr, ctx: &Context) {
    let mut buf: Vec<u8> = Vec::with_capacity(2048);
    let mut device: Option<(DeviceId, String)> = None;
    // Absolute: the IMEI login must be complete by this instant, however slowly it drips in
    // (a byte every few seconds must not hold a descriptor for ever without logging in).
    let login_by = tokio::time::Instant::now() + ctx.limits.first_byte_timeout;
    let end = loop {
        let framed = match tk::next_frame(&buf, ctx.limits.max_frame_bytes) {
            Ok(f) => f,
            Err(e) => break End::Bad(e),
        };
        match framed {
            Framed::Incomplete { .. } => {
                let (until, what) = if device.is_none() {
                    (login_by, "no login within the first-byte timeout")
                } else {
                    (
                        tokio::time::Instant::now() + ctx.limits.idle_timeout,
                        "idle timeout",
                    )
                };
                let mut chunk = [0u8; 4096];
                match timeout_at(until, stream.read(&mut chunk)).await {
                    Err(_) => break End::Silent(what),
                    Ok(Ok(0)) => break End::Closed,
                    Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
                    Ok(Err(e)) => break End::Io(e),
                }
                continue;
            }
            Framed::Login { imei, consumed } => {
                buf.drain(..consumed);
                let known = ctx
                    .registry
                    .lookup(Protocol::Teltonika, &ExternalId::from_imei(imei));
                let answer = if known.is_some() {
                    tk::LOGIN_ACCEPT
                } else {
                    tk::LOGIN_REJECT
                };
                if let Err(e) = stream.write_all(&[answer]).await {
                    break End::Io(e);
                }
                match known {
                    Some(d) => {
                        tracing::debug!(%peer, %imei, "teltonika device logged in");
                        let imei = imei.to_string();
                        ctx.ingestor
                            .metrics()
                            .health
                            .connected(Protocol::Teltonika, &imei);
                        device = Some((d.id, imei));
                    }
                    None => {
                        ctx.ingestor.metrics().health.refused(
                            Protocol::Teltonika,
                            Some(&imei.to_string()),
                            "login refused: IMEI not registered in the organisation",
                        );
                        if let Some(more) = crate::throttle::allow("teltonika: unknown IMEI") {
                            tracing::warn!(%peer, %imei, suppressed_since_last = more, "teltonika login refused: IMEI not registered in the organisation");
                        }
                        break End::Refused;
                    }
                }
            }
            Framed::KeepAlive => {
                buf.drain(..1);
            }
            Framed::Data { payload, consumed } => {
                let Some((device_id, imei)) = &device else {
                    break End::Bad(tk::DecodeError::Unrecognised {
                        reason: "a data frame before the IMEI login",
                    });
                };
                let parsed = tk::parse_payload(payload);
                let records = match parsed {
                    Ok(Payload::Avl(avl)) => avl.records().map(screenable).collect::<Vec<_>>(),
                    Ok(Payload::Gprs(msg)) => {
                        tracing::info!(%peer, imei = %imei, kind = ?msg.kind, text = %String::from_utf8_lossy(msg.text), "teltonika codec 12 message");
                        buf.drain(..consumed);
                        continue;
                    }
                    Err(e) => break End::Bad(e),
                };
                buf.drain(..consumed);
                let n = records.len();
                // One bad record among good ones: the good ones are stored, the bad ones
                // refused (counted, logged), and the ACK counts every record in the frame. A
                // device resends any frame it is not acknowledged for in full, so an ACK
                // short of the count would bring the same bad record back for ever and hold
                // up everything queued behind it (ARCHITECTURE.md, "Hostile input").
                let (fixes, _refused) =
                    ctx.ingestor
                        .screen(Protocol::Teltonika, imei, peer, records);
                match ctx
                    .ingestor
                    .submit(Protocol::Teltonika, *device_id, fixes)
                    .await
                {
                    Ok(_) => {
                        let ack = u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
                        if let Err(e) = stream.write_all(&ack).await {
                            break End::Io(e);
                        }
                        tracing::trace!(%peer, imei = %imei, records = n, "acknowledged");
                    }
                    Err(e) => break End::NotStored(e),
                }
            }
        }
    };
    let imei = device.as_ref().map(|(_, i)| i.as_str()).unwrap_or("-");
    let counters = ctx.ingestor.metrics().protocol(Protocol::Teltonika);
    let health = &ctx.ingestor.metrics().health;
    if device.is_some() {
        health.disconnected(Protocol::Teltonika, imei);
        match &end {
            End::Bad(e) => health.refused(
                Protocol::Teltonika,
                Some(imei),
                &format!("malformed input: {e}"),
            ),
            End::NotStored(_) => health.refused(
                Protocol::Teltonika,
                Some(imei),
                "records not stored (storage failed); the unit resends",
            ),
            _ => {}
        }
    }
    match end {
        End::Closed => tracing::debug!(%peer, imei, "teltonika connection closed by the device"),
        End::Silent(why) => tracing::info!(%peer, imei, "teltonika connection closed: {why}"),
        End::Io(e) => tracing::info!(%peer, imei, error = %e, "teltonika connection failed"),
        End::Refused => {
            counters.connections_refused.fetch_add(1, Relaxed);
        }
        End::Bad(e) => {
            counters.frames_rejected.fetch_add(1, Relaxed);
            if let Some(more) = crate::throttle::allow("teltonika: malformed") {
                tracing::warn!(%peer, imei, error = %e, suppressed_since_last = more, "teltonika connection closed: malformed input");
            }
        }
        End::NotStored(e) => {
            if let Some(more) = crate::throttle::allow("teltonika: not stored") {
                tracing::error!(%peer, imei, error = %e, suppressed_since_last = more, "teltonika connection closed without ACK: records not stored");
            }
        }
    }
}

/// A record as the edge check sees it: a position the device claims (satellites in view) must
/// be on the globe — the codec alone would quietly drop it and keep the rest of the record.
fn screenable(r: tk::RecordView<'_>) -> Result<domain::Fix, domain::sane::Insane> {
    if r.satellites() > 0 {
        domain::sane::check_coordinates(r.lat(), r.lon())?;
    }
    Ok(r.to_fix())
}

pub async fn serve_udp(socket: UdpSocket, ctx: Context) {
    let socket = Arc::new(socket);
    let mut buf = vec![0u8; 65_536];
    let counters = ctx.ingestor.metrics().protocol(Protocol::Teltonika);
    loop {
        let (n, peer) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                if let Some(more) = crate::throttle::allow("teltonika: udp receive failed") {
                    tracing::warn!(error = %e, suppressed_since_last = more, "teltonika UDP receive failed");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let packet = match tk::parse_udp(&buf[..n]) {
            Ok(p) => p,
            Err(e) => {
                counters.frames_rejected.fetch_add(1, Relaxed);
                if let Some(more) = crate::throttle::allow("teltonika: udp malformed") {
                    tracing::warn!(%peer, error = %e, suppressed_since_last = more, "teltonika UDP datagram dropped: malformed");
                }
                continue;
            }
        };
        let Some(device) = ctx
            .registry
            .lookup(Protocol::Teltonika, &ExternalId::from_imei(packet.imei))
        else {
            counters.connections_refused.fetch_add(1, Relaxed);
            if let Some(more) = crate::throttle::allow("teltonika: udp unknown IMEI") {
                tracing::warn!(%peer, imei = %packet.imei, suppressed_since_last = more, "teltonika UDP datagram dropped: IMEI not registered in the organisation");
            }
            continue;
        };
        let records: Vec<_> = packet.avl.records().map(screenable).collect();
        let n = records.len();
        let (fixes, _) =
            ctx.ingestor
                .screen(Protocol::Teltonika, &packet.imei.to_string(), peer, records);
        let (packet_id, avl_packet_id, imei) =
            (packet.packet_id, packet.avl_packet_id, packet.imei);
        // Each datagram commits on its own task, so a slow commit never holds up others.
        let ingestor = ctx.ingestor.clone();
        let socket = socket.clone();
        tokio::spawn(async move {
            match ingestor.submit(Protocol::Teltonika, device.id, fixes).await {
                Ok(_) => {
                    // As over TCP: every record counted, refused ones included.
                    let ack =
                        tk::udp_ack(packet_id, avl_packet_id, u8::try_from(n).unwrap_or(u8::MAX));
                    if let Err(e) = socket.send_to(&ack, peer).await {
                        tracing::info!(%peer, %imei, error = %e, "teltonika UDP ACK not sent");
                    }
                }
                Err(e) => {
                    if let Some(more) = crate::throttle::allow("teltonika: udp not stored") {
                        tracing::error!(%peer, %imei, error = %e, suppressed_since_last = more, "teltonika UDP records not stored; no ACK");
                    }
                }
            }
        });
    }
}
