//! OwnTracks over MQTT: the app's default mode. Sporvern subscribes to the broker the phones
//! publish to (`owntracks/<user>/<device>`, QoS 1) and acknowledges a message (PUBACK) only
//! after its fix is durably staged. A message it cannot store is not acknowledged: the session
//! is persistent (`clean_session = false`), so after Sporvern reconnects the broker delivers it
//! again. A message that can never be stored (an unknown device, a malformed body) is
//! acknowledged and logged, so that it does not come back forever.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use domain::{ExternalId, Protocol};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

use super::{Ingestor, Registry};

/// The connection to the broker, from the settings.
#[derive(Clone, Debug)]
pub struct MqttSettings {
    pub host: String,
    pub port: u16,
    /// The topic filter; the last two levels are the device identity (`user/device`).
    pub topic: String,
    /// The client id; with a persistent session the broker keeps unacknowledged messages for it.
    pub client_id: String,
}

impl MqttSettings {
    /// `mqtt://host[:port]`.
    pub fn parse(url: &str, topic: &str, client_id: &str) -> Option<MqttSettings> {
        let rest = url
            .strip_prefix("mqtt://")
            .or_else(|| url.strip_prefix("tcp://"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (rest, 1883),
        };
        (!host.is_empty() && !topic.is_empty()).then(|| MqttSettings {
            host: host.to_owned(),
            port,
            topic: topic.to_owned(),
            client_id: client_id.to_owned(),
        })
    }
}

/// The device identity in a topic: its last two levels, `user/device`.
pub fn identity(topic: &str) -> Option<String> {
    let mut levels = topic.rsplit('/');
    let device = levels.next().filter(|s| !s.is_empty())?;
    let user = levels.next().filter(|s| !s.is_empty())?;
    Some(format!("{user}/{device}"))
}

/// What to do with one message.
enum Outcome {
    /// Stored (or nothing to store): acknowledge.
    Done,
    /// Never storable: acknowledge, and say why in the log.
    Refused(String),
    /// Storage failed: do not acknowledge; reconnect so that the broker delivers it again.
    Retry(String),
}

async fn handle(
    topic: &str,
    payload: &[u8],
    ingestor: &Ingestor,
    registry: &Registry,
    keys: &super::owntracks::Keys,
) -> Outcome {
    let Some(who) = identity(topic) else {
        return Outcome::Refused(format!("topic {topic:?} does not end in <user>/<device>"));
    };
    let device = ExternalId::parse(Protocol::Owntracks, &who)
        .ok()
        .and_then(|id| registry.lookup(Protocol::Owntracks, &id));
    let Some(device) = device else {
        return Outcome::Refused(format!(
            "unknown device {who:?}: register it in the organisation file (protocol = \"owntracks\")"
        ));
    };
    let payload = match super::owntracks::open_payload(payload, &who, keys) {
        Ok(p) => p,
        Err(why) => return Outcome::Refused(why),
    };
    let fix = match codec::owntracks::parse(&payload) {
        Ok(codec::owntracks::OwntracksMessage::Location(fix)) => fix,
        // transition, waypoint, lwt …: understood, nothing to store.
        Ok(_) => return Outcome::Done,
        Err(e) => return Outcome::Refused(format!("{who}: {e}")),
    };
    let (fixes, refused) = ingestor.screen(Protocol::Owntracks, &who, "mqtt", [Ok(fix)]);
    if !refused.is_empty() {
        // Acknowledged to the broker so it is not delivered again; counted and logged there.
        return Outcome::Done;
    }
    match ingestor.submit(Protocol::Owntracks, device.id, fixes).await {
        Ok(_) => Outcome::Done,
        Err(e) => Outcome::Retry(format!("{who}: {e}")),
    }
}

/// Subscribes and stores until the process stops; reconnects after a lost connection or a
/// storage failure.
pub async fn run(
    settings: MqttSettings,
    ingestor: Ingestor,
    registry: Registry,
    keys: super::owntracks::Keys,
) {
    loop {
        let mut options = MqttOptions::new(&settings.client_id, &settings.host, settings.port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_clean_session(false)
            .set_manual_acks(true);
        let (client, mut events) = AsyncClient::new(options, 64);
        if let Err(e) = client.subscribe(&settings.topic, QoS::AtLeastOnce).await {
            tracing::error!(error = %e, "mqtt subscribe request failed");
        }
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    tracing::info!(host = %settings.host, port = settings.port, topic = %settings.topic, "subscribed to OwnTracks over MQTT");
                    // A persistent session keeps the subscription, but asking again is harmless
                    // and covers a broker that lost it.
                    let _ = client.subscribe(&settings.topic, QoS::AtLeastOnce).await;
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    match handle(&p.topic, &p.payload, &ingestor, &registry, &keys).await {
                        Outcome::Done => {
                            let _ = client.ack(&p).await;
                        }
                        Outcome::Refused(why) => {
                            let c = ingestor.metrics().protocol(Protocol::Owntracks);
                            c.records_rejected.fetch_add(1, Relaxed);
                            c.frames_rejected.fetch_add(1, Relaxed);
                            if let Some(more) = crate::throttle::allow("mqtt: message refused") {
                                tracing::warn!(topic = %p.topic, refused_since_last = more, "owntracks message refused: {why}");
                            }
                            let _ = client.ack(&p).await;
                        }
                        Outcome::Retry(why) => {
                            tracing::error!(topic = %p.topic, "owntracks fix not stored; not acknowledged, reconnecting so the broker delivers it again: {why}");
                            break;
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, host = %settings.host, "mqtt connection lost; reconnecting");
                    break;
                }
            }
        }
        drop(events);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_is_the_topic_s_last_two_levels() {
        assert_eq!(
            identity("owntracks/ingrid/phone").as_deref(),
            Some("ingrid/phone")
        );
        assert_eq!(
            identity("site-a/owntracks/ingrid/phone").as_deref(),
            Some("ingrid/phone")
        );
        assert_eq!(identity("phone"), None);
        assert_eq!(identity("owntracks//phone"), None);
    }

    #[test]
    fn a_broker_url_gives_host_and_port() {
        let s = MqttSettings::parse("mqtt://127.0.0.1:1884", "owntracks/+/+", "sporvern")
            .expect("valid");
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 1884));
        let s =
            MqttSettings::parse("mqtt://broker.lan", "owntracks/+/+", "sporvern").expect("valid");
        assert_eq!(s.port, 1883);
        assert!(MqttSettings::parse("http://broker", "owntracks/+/+", "sporvern").is_none());
    }
}
