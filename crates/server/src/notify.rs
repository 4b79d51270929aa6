//! Notifications outward: when an alarm window opens, the security staff are told by e-mail
//! (SMTP, `lettre`) and/or an HTTP webhook signed with HMAC-SHA256, retried with exponential
//! backoff. Only alarms notify: nothing here knows of speed, geofences or driving style.
//!
//! A message names the vehicle, what opened the window, when, and a link to the alarms page;
//! it never carries a position (an e-mail or a webhook leaves the server, so the positions stay
//! behind the policy and the ledger of the alarms page). Every notification is on the audit
//! ledger — who was told, by which channel, when, and whether it arrived — never the message's
//! content and never a position.
//!
//! Webhook: `POST` of a JSON body `{"event":"alarm.opened","window":…,"vehicle":…,
//! "triggers":[…],"opened_at":…,"sent_at":…,"url":…}` with the header
//! `X-Sporvern-Signature: sha256=<hex HMAC-SHA256 of the body under the shared secret>`. The
//! receiver recomputes it over the raw body and compares in constant time; `sent_at` lets it
//! refuse replays.

use std::sync::Arc;
use std::time::Duration;

use domain::Timestamp;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use crate::purpose_worker::{AlarmChange, Shared};

/// A secret from the configuration: never printed, not even by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain, then STARTTLS, refused if the server does not offer it (port 587).
    StartTls,
    /// No encryption: only for a relay on the same machine.
    None,
}

impl SmtpTls {
    pub fn parse(s: &str) -> Option<SmtpTls> {
        match s {
            "tls" => Some(SmtpTls::Tls),
            "starttls" => Some(SmtpTls::StartTls),
            "none" => Some(SmtpTls::None),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    pub to: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    pub url: String,
    pub secret: Secret,
}

/// `[notify]` in `sporvern.toml`.
#[derive(Clone, Debug)]
pub struct NotifySettings {
    /// Where the server is reached, for the link in a message (`https://sporvern.example.no`).
    pub base_url: Option<String>,
    pub smtp: Option<SmtpSettings>,
    pub webhook: Option<WebhookSettings>,
    /// Tries per recipient (at least 1).
    pub attempts: u32,
    /// The wait before the second try; it doubles for each next one.
    pub first_retry: Duration,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            base_url: None,
            smtp: None,
            webhook: None,
            attempts: 5,
            first_retry: Duration::from_secs(2),
        }
    }
}

/// The HMAC-SHA256 signature header value for a webhook body.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(access::hmac_sha256(secret.0.as_bytes(), body))
    )
}

/// An opened alarm window as a notification tells of it.
#[derive(Clone, Debug)]
struct Notice {
    window: i64,
    reg: String,
    triggers: String,
    opened_at: Timestamp,
    /// The employee numbers the alarm concerns (the vehicle's driver that day), for the ledger.
    subject: Option<String>,
}

/// Starts the notifier: a thread that listens to alarm windows opening and tells each
/// configured recipient, each on a thread of its own so one slow receiver delays no other.
pub fn start(
    settings: NotifySettings,
    shared: Arc<Shared>,
    store: Arc<dyn storage::Store>,
) -> std::io::Result<()> {
    if settings.smtp.is_none() && settings.webhook.is_none() {
        return Ok(());
    }
    let mut rx = shared.alarm_changes.subscribe();
    let settings = Arc::new(settings);
    std::thread::Builder::new()
        .name("notify".into())
        .spawn(move || {
            loop {
                match rx.blocking_recv() {
                    Ok(AlarmChange::Opened {
                        window,
                        vehicle,
                        opened_at,
                        triggers,
                        ..
                    }) => {
                        let reg = shared
                            .names
                            .read()
                            .ok()
                            .and_then(|n| n.get(&vehicle).cloned())
                            .unwrap_or_default();
                        let subject = drivers(store.as_ref(), &reg, opened_at);
                        let notice = Notice {
                            window,
                            reg,
                            triggers,
                            opened_at,
                            subject,
                        };
                        send_all(&settings, &store, notice);
                    }
                    Ok(AlarmChange::Resolved { .. }) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::error!(missed = n, "notifications: alarm changes were missed");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        })
        .map(|_| ())
}

fn drivers(store: &dyn storage::Store, reg: &str, at: Timestamp) -> Option<String> {
    let org = store.load_org().ok()?;
    let reg = domain::RegNo::parse(reg).ok()?;
    let day = trips::oslo_date(at);
    crate::reads::drivers_of(&org, &reg, day, day)
}

fn send_all(settings: &Arc<NotifySettings>, store: &Arc<dyn storage::Store>, notice: Notice) {
    if let Some(smtp) = &settings.smtp {
        for to in &smtp.to {
            let (settings, store, notice, to) =
                (settings.clone(), store.clone(), notice.clone(), to.clone());
            spawn(move || {
                let Some(smtp) = settings.smtp.as_ref() else {
                    return;
                };
                let outcome = with_retries(&settings, || send_mail(smtp, &to, &notice, &settings));
                record(store.as_ref(), &notice, &format!("e-mail to {to}"), outcome);
            });
        }
    }
    if let Some(hook) = &settings.webhook {
        let (settings, store, notice, hook) = (
            settings.clone(),
            store.clone(),
            notice.clone(),
            hook.clone(),
        );
        spawn(move || {
            let outcome = with_retries(&settings, || send_webhook(&hook, &notice, &settings));
            record(
                store.as_ref(),
                &notice,
                &format!("webhook to {}", without_query(&hook.url)),
                outcome,
            );
        });
    }
}

fn spawn(f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new()
        .name("notify-send".into())
        .spawn(f)
    {
        tracing::error!(error = %e, "notifications: cannot start a sender");
    }
}

/// The attempt that succeeded, or the last error after every attempt failed.
fn with_retries(
    settings: &NotifySettings,
    mut attempt: impl FnMut() -> Result<(), String>,
) -> Result<u32, (u32, String)> {
    let tries = settings.attempts.max(1);
    let mut wait = settings.first_retry;
    let mut last = String::new();
    for n in 1..=tries {
        match attempt() {
            Ok(()) => return Ok(n),
            Err(e) => {
                tracing::warn!(attempt = n, error = %e, "notifications: delivery failed");
                last = e;
            }
        }
        if n < tries {
            std::thread::sleep(wait);
            wait = wait.saturating_mul(2);
        }
    }
    Err((tries, last))
}

fn record(
    store: &dyn storage::Store,
    notice: &Notice,
    channel: &str,
    outcome: Result<u32, (u32, String)>,
) {
    let outcome = match outcome {
        Ok(n) => format!("sent (attempt {n})"),
        Err((n, e)) => format!("failed after {n} attempts: {}", first_line(&e)),
    };
    let entry = storage::AuditRecord {
        at: crate::ingest::now(),
        actor: "sporvern (notifications)".to_owned(),
        role: "server".to_owned(),
        purpose: "alarm".to_owned(),
        subject: notice.subject.clone(),
        action: ledger::Action::Export,
        object: format!(
            "alarm window {} ({}) notified: {channel}",
            notice.window, notice.reg
        ),
        outcome,
    };
    if let Err(e) = store.audit_append(entry) {
        tracing::error!(error = %e, "notifications: the ledger could not record a notification");
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(200).collect()
}

fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

fn link(notice: &Notice, settings: &NotifySettings) -> Option<String> {
    settings
        .base_url
        .as_ref()
        .map(|b| format!("{}/alarms#alarm-{}", b.trim_end_matches('/'), notice.window))
}

fn trigger_names(triggers: &str) -> (String, String) {
    let (mut nb, mut en) = (Vec::new(), Vec::new());
    for t in triggers.split(',').map(str::trim) {
        let (n, e) = match t {
            "panic" => ("panikknapp", "panic button"),
            "crash" => ("kollisjon", "crash"),
            "tamper" => ("sabotasje", "tamper"),
            "theft" => ("meldt tyveri", "reported theft"),
            "towing" => ("slep", "towing"),
            "jamming" => ("signalforstyrrelse", "jamming"),
            "unplug" => ("frakoblet strøm", "unplugged"),
            other => (other, other),
        };
        nb.push(n.to_owned());
        en.push(e.to_owned());
    }
    (nb.join(", "), en.join(", "))
}

fn oslo_time(t: Timestamp) -> String {
    t.to_offset_date_time()
        .map(|d| {
            let l = d.to_offset(trips::oslo_offset(t));
            format!("{} {:02}:{:02}", l.date(), l.hour(), l.minute())
        })
        .unwrap_or_else(|| t.rfc3339())
}

fn send_mail(
    smtp: &SmtpSettings,
    to: &str,
    notice: &Notice,
    settings: &NotifySettings,
) -> Result<(), String> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| format!("notify.smtp.from: {e}"))?;
    let to_box: Mailbox = to.parse().map_err(|e| format!("notify.smtp.to: {e}"))?;
    let (nb, en) = trigger_names(&notice.triggers);
    let when = oslo_time(notice.opened_at);
    let link = link(notice, settings);
    let body = format!(
        "Et alarmvindu er åpnet for {reg} ({nb}) {when}.\n{see_nb}\n\
         Meldingen inneholder ingen posisjon: posisjonene vises bare på alarmsiden, og innsynet føres i revisjonsloggen.\n\n\
         An alarm window opened for {reg} ({en}) at {when} (Norwegian time).\n{see_en}\n\
         This message carries no position: positions are shown only on the alarms page, and every view is on the audit ledger.\n",
        reg = notice.reg,
        see_nb = link
            .as_ref()
            .map(|l| format!("Se alarmen: {l}"))
            .unwrap_or_else(|| "Se alarmsiden i Sporvern.".to_owned()),
        see_en = link
            .as_ref()
            .map(|l| format!("See the alarm: {l}"))
            .unwrap_or_else(|| "See the alarms page in Sporvern.".to_owned()),
    );
    let message = Message::builder()
        .from(from)
        .to(to_box)
        .subject(format!("Alarm: {} - {nb}", notice.reg))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("building the message: {e}"))?;
    let mut builder = match smtp.tls {
        SmtpTls::Tls => SmtpTransport::relay(&smtp.host).map_err(|e| e.to_string())?,
        SmtpTls::StartTls => {
            SmtpTransport::starttls_relay(&smtp.host).map_err(|e| e.to_string())?
        }
        SmtpTls::None => SmtpTransport::builder_dangerous(&smtp.host).tls(Tls::None),
    }
    .port(smtp.port)
    .timeout(Some(Duration::from_secs(15)));
    if smtp.tls == SmtpTls::StartTls {
        let params = TlsParameters::new(smtp.host.clone()).map_err(|e| e.to_string())?;
        builder = builder.tls(Tls::Required(params));
    }
    if let (Some(user), Some(pass)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), pass.0.clone()));
    }
    builder
        .build()
        .send(&message)
        .map(|_| ())
        .map_err(|e| format!("SMTP {}:{}: {e}", smtp.host, smtp.port))
}

fn send_webhook(
    hook: &WebhookSettings,
    notice: &Notice,
    settings: &NotifySettings,
) -> Result<(), String> {
    let triggers: Vec<&str> = notice.triggers.split(',').map(str::trim).collect();
    let body = serde_json::json!({
        "event": "alarm.opened",
        "window": notice.window,
        "vehicle": notice.reg,
        "triggers": triggers,
        "opened_at": notice.opened_at.rfc3339(),
        "sent_at": crate::ingest::now().rfc3339(),
        "url": link(notice, settings),
    })
    .to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(15)))
        .http_status_as_error(true)
        .build()
        .into();
    agent
        .post(&hook.url)
        .header("Content-Type", "application/json")
        .header("X-Sporvern-Event", "alarm.opened")
        .header(
            "X-Sporvern-Signature",
            &signature(&hook.secret, body.as_bytes()),
        )
        .send(body.as_bytes())
        .map(|_| ())
        .map_err(|e| format!("webhook {}: {e}", without_query(&hook.url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_not_printed() {
        let s = NotifySettings {
            smtp: Some(SmtpSettings {
                host: "smtp.example.no".into(),
                port: 587,
                tls: SmtpTls::StartTls,
                username: Some("alarm".into()),
                password: Some(Secret("hunter2".into())),
                from: "alarm@example.no".into(),
                to: vec!["vakt@example.no".into()],
            }),
            webhook: Some(WebhookSettings {
                url: "https://hooks.example.no/x".into(),
                secret: Secret("s3cret".into()),
            }),
            ..NotifySettings::default()
        };
        let printed = format!("{s:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("s3cret"),
            "{printed}"
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        let sig = signature(&Secret("Jefe".into()), b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retries_back_off_and_give_up() {
        let s = NotifySettings {
            attempts: 3,
            first_retry: Duration::from_millis(1),
            ..NotifySettings::default()
        };
        let mut n = 0;
        assert_eq!(
            with_retries(&s, || {
                n += 1;
                if n < 2 { Err("busy".into()) } else { Ok(()) }
            }),
            Ok(2)
        );
        assert_eq!(
            with_retries(&s, || Err("down".into())),
            Err((3, "down".to_owned()))
        );
    }
}
