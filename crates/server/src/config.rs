//! Layered configuration: defaults, then `sporvern.toml` (in the data folder, or `--config`),
//! then `SPORVERN_*` environment variables and flags (the binary folds those two together
//! with clap). The notification credentials (`[notify]`: the SMTP password, the webhook's
//! secret) are `notify::Secret`s, which `Debug` never prints; `SPORVERN_SMTP_PASSWORD` and
//! `SPORVERN_WEBHOOK_SECRET` override the file's, so they need not be written in it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// A PostgreSQL database instead of the embedded SQLite in `data_dir`
    /// (`postgres://user@host:5432/sporvern`; `database_url` in sporvern.toml,
    /// `SPORVERN_DATABASE`, `--database`). None by default. `crate::database` opens it.
    pub database_url: Option<String>,
    /// The web interface, the API, `/healthz`, `/metrics` and OwnTracks (`POST /owntracks`).
    pub http: SocketAddr,
    /// Teltonika, TCP and UDP on the same address (customarily port 5027).
    pub teltonika: SocketAddr,
    /// The OsmAnd protocol of the Traccar Client app (customarily port 5055).
    pub osmand: SocketAddr,
    /// Device connections held open at once, per listener; more are closed on accept.
    pub max_connections: usize,
    /// How long a new connection may stay silent before it is closed.
    pub first_byte_timeout: Duration,
    /// How long an established device connection may stay silent.
    pub idle_timeout: Duration,
    /// The largest Teltonika frame accepted (devices send at most 1,280 B per packet).
    pub max_frame_bytes: usize,
    /// Records per group commit, at most.
    pub batch_max_rows: usize,
    /// How long raw fixes may wait in staging before they are purged, whatever happened.
    pub staging_lifetime: Duration,
    /// How long consumed fixes stay in staging: the trip builder's late-data window, so that
    /// a restart can rebuild an open trip.
    pub staging_keep_after_use: Duration,
    /// A vehicle leaves the fleet view when its latest position is older than this.
    pub fleet_stale_after: Duration,
    /// A Nominatim-compatible reverse-geocoding service for trip ends that are not one of the
    /// organisation's sites (e.g. `http://nominatim.internal:8080`). None by default: place
    /// names then come from the sites and the built-in gazetteer, and no position leaves the
    /// server. A service run by someone else processes positions for you: it needs a
    /// processor agreement (GDPR art. 28).
    pub address_lookup_url: Option<String>,
    /// OwnTracks over MQTT: the broker the phones publish to, subscribed to with QoS 1 and a
    /// persistent session (`mqtt_url = "mqtt://host:1883"`, `mqtt_topic`, default
    /// `owntracks/+/+`). None by default.
    pub mqtt: Option<crate::ingest::owntracks_mqtt::MqttSettings>,
    /// Several nodes: the NATS server the live fleet view fans out over between the nodes
    /// (`nats_url = "nats://10.0.0.5:4222"`; core subjects only, nothing persisted). None by
    /// default; a second node on a shared database without it is refused at start.
    pub nats_url: Option<String>,
    /// This node's name among several on a shared database (`node_name`); default the host
    /// name and process id. On the embedded database there is one node, `embedded`.
    pub node_name: Option<String>,
    /// Mark the web's cookies `Secure`: set it when users reach Sporvern over HTTPS (e.g.
    /// behind a TLS proxy), so browsers never send a session over plain HTTP. Off by default,
    /// because the server itself speaks plain HTTP on a trusted network.
    pub secure_cookies: bool,
    /// Map tiles under the dispatcher's map, as a URL template with `{z}`, `{x}` and `{y}`
    /// (e.g. a tile server of your own). None by default: the map then draws positions on a
    /// plain background with the sites' outlines and works offline. A tile server run by
    /// someone else learns which area the dispatcher looks at (never the vehicles).
    pub map_tiles_url: Option<String>,
    /// The tiles' attribution, shown on the map (e.g. "© OpenStreetMap contributors").
    pub map_tiles_attribution: Option<String>,
    /// Where the server writes the audit ledger's head (a checkpoint) after verifying the whole
    /// ledger. Point it at storage the server cannot rewrite (another machine, a WORM share):
    /// `sporvern audit verify --checkpoint FILE` then finds a ledger cut short or rewritten.
    pub ledger_checkpoint_dir: PathBuf,
    /// How often the ledger is verified and a checkpoint written.
    pub ledger_checkpoint_every: Duration,
    /// Days an evaluation with the representatives (arbeidsmiljøloven § 9-2 (3)) may be
    /// overdue before the privacy officer and the representatives are warned. The warning does
    /// not stop collection (see `register::gate`).
    pub evaluation_grace_days: i64,
    /// `/healthz` fails when the purpose engine has done no round for this long, or when the
    /// oldest fix it has not processed arrived longer ago than this.
    pub purpose_max_lag: Duration,
    /// An absolute deadline for one HTTP request's headers and its body, however slowly the
    /// bytes drip in (the headers alone have `first_byte_timeout`).
    pub request_timeout: Duration,
    /// File descriptors kept back from the device listeners, so that the web, the API, the
    /// database and the logs always have some: each listener's cap is sized from the process's
    /// descriptor limit minus this (and never above `max_connections`).
    pub descriptor_reserve: usize,
    /// Failed logins, CSRF refusals and 401s go on the audit ledger as one entry per source
    /// and kind for each window this long (a minute): a flood writes a bounded number.
    pub refusal_window: Duration,
    /// OwnTracks payload encryption keys per device (`[owntracks_keys]`, `"user/device" =
    /// "passphrase"`); an encrypted payload from a device without one is refused and logged.
    pub owntracks_keys: crate::ingest::owntracks::Keys,
    /// Who is told when an alarm window opens (`[notify]`); nobody by default.
    pub notify: crate::notify::NotifySettings,
}

/// The origin (`scheme://host[:port]`) of a tile URL template, for the page's
/// Content-Security-Policy.
pub fn tile_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split('/').next()?;
    if host.is_empty() || host.contains(['{', '}', ' ', '\'', '"', ';']) {
        return None;
    }
    Some(format!("{scheme}://{host}"))
}

impl Settings {
    pub fn defaults(data_dir: PathBuf) -> Settings {
        Settings {
            ledger_checkpoint_dir: data_dir.join("ledger-checkpoints"),
            data_dir,
            database_url: None,
            http: SocketAddr::from(([0, 0, 0, 0], 8080)),
            teltonika: SocketAddr::from(([0, 0, 0, 0], 5027)),
            osmand: SocketAddr::from(([0, 0, 0, 0], 5055)),
            max_connections: 20_000,
            first_byte_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(15 * 60),
            max_frame_bytes: 64 * 1024,
            batch_max_rows: 20_000,
            staging_lifetime: Duration::from_secs(72 * 3600),
            staging_keep_after_use: Duration::from_secs(6 * 3600),
            fleet_stale_after: Duration::from_secs(10 * 60),
            address_lookup_url: None,
            evaluation_grace_days: 30,
            map_tiles_url: None,
            map_tiles_attribution: None,
            secure_cookies: false,
            mqtt: None,
            nats_url: None,
            node_name: None,
            ledger_checkpoint_every: Duration::from_secs(3600),
            purpose_max_lag: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            descriptor_reserve: 256,
            refusal_window: crate::login::DEFAULT_WINDOW,
            owntracks_keys: crate::ingest::owntracks::Keys::default(),
            notify: crate::notify::NotifySettings::default(),
        }
    }

    /// Settings for tests: every listener on an ephemeral loopback port.
    pub fn for_tests(data_dir: PathBuf) -> Settings {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Settings {
            http: any,
            teltonika: any,
            osmand: any,
            ..Settings::defaults(data_dir)
        }
    }

    /// Applies `sporvern.toml`: the file at `path`, or the one in the data folder if any.
    pub fn apply_file(&mut self, path: Option<&Path>) -> Result<(), ConfigError> {
        let default = self.data_dir.join("sporvern.toml");
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (default, false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(ConfigError(format!("cannot read {}: {e}", path.display())));
            }
        };
        let file: SettingsFile = toml::from_str(&text)
            .map_err(|e| ConfigError(format!("{}: {}", path.display(), e.to_string().trim())))?;
        let secs = Duration::from_secs;
        if let Some(v) = file.database_url {
            self.database_url = Some(v);
        }
        if let Some(v) = file.http {
            self.http = v;
        }
        if let Some(v) = file.teltonika {
            self.teltonika = v;
        }
        if let Some(v) = file.osmand {
            self.osmand = v;
        }
        if let Some(v) = file.purpose_max_lag_secs {
            self.purpose_max_lag = secs(v);
        }
        if let Some(v) = file.request_timeout_secs {
            self.request_timeout = secs(v);
        }
        if let Some(v) = file.descriptor_reserve {
            self.descriptor_reserve = v;
        }
        if let Some(keys) = file.owntracks_keys {
            self.owntracks_keys = crate::ingest::owntracks::Keys::from_passphrases(keys);
        }
        if let Some(v) = file.max_connections {
            self.max_connections = v;
        }
        if let Some(v) = file.first_byte_timeout_secs {
            self.first_byte_timeout = secs(v);
        }
        if let Some(v) = file.idle_timeout_secs {
            self.idle_timeout = secs(v);
        }
        if let Some(v) = file.max_frame_bytes {
            self.max_frame_bytes = v;
        }
        if let Some(v) = file.batch_max_rows {
            self.batch_max_rows = v;
        }
        if let Some(v) = file.address_lookup_url {
            self.address_lookup_url = Some(v);
        }
        if let Some(v) = file.fleet_stale_after_secs {
            self.fleet_stale_after = secs(v);
        }
        if let Some(v) = file.evaluation_grace_days {
            self.evaluation_grace_days = v;
        }
        if let Some(url) = file.mqtt_url {
            let topic = file.mqtt_topic.as_deref().unwrap_or("owntracks/+/+");
            self.mqtt = Some(
                crate::ingest::owntracks_mqtt::MqttSettings::parse(url.trim(), topic, "sporvern")
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "mqtt_url is mqtt://host[:port] (and mqtt_topic a topic filter), not {url:?}"
                        ))
                    })?,
            );
        }
        if let Some(v) = file.nats_url {
            self.nats_url = Some(v.trim().to_owned());
        }
        if let Some(v) = file.node_name {
            self.node_name = Some(v.trim().to_owned());
        }
        if let Some(v) = file.secure_cookies {
            self.secure_cookies = v;
        }
        if let Some(v) = file.map_tiles_url {
            self.map_tiles_url = Some(v);
        }
        if let Some(v) = file.map_tiles_attribution {
            self.map_tiles_attribution = Some(v);
        }
        if let Some(v) = file.ledger_checkpoint_dir {
            self.ledger_checkpoint_dir = v;
        }
        if let Some(v) = file.ledger_checkpoint_minutes {
            self.ledger_checkpoint_every = secs(v.max(1) * 60);
        }
        if let Some(v) = file.staging_lifetime_hours {
            self.staging_lifetime = secs(v * 3600);
        }
        if let Some(n) = file.notify {
            self.notify = n.into_settings()?;
        }
        self.notify_secrets_from_env();
        self.validate()
    }

    /// `SPORVERN_SMTP_PASSWORD` and `SPORVERN_WEBHOOK_SECRET` over the file's.
    fn notify_secrets_from_env(&mut self) {
        use crate::notify::Secret;
        if let (Some(smtp), Ok(p)) = (
            self.notify.smtp.as_mut(),
            std::env::var("SPORVERN_SMTP_PASSWORD"),
        ) {
            smtp.password = Some(Secret(p));
        }
        if let (Some(hook), Ok(p)) = (
            self.notify.webhook.as_mut(),
            std::env::var("SPORVERN_WEBHOOK_SECRET"),
        ) {
            hook.secret = Secret(p);
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        // SPEC.md: staging waits "at most a few days"; never more than 7 days.
        if self.staging_lifetime > Duration::from_secs(7 * 24 * 3600) {
            return Err(ConfigError(
                "staging_lifetime_hours may be at most 168 (7 days): raw fixes are not a product"
                    .into(),
            ));
        }
        if self.max_frame_bytes < 1280 {
            return Err(ConfigError(
                "max_frame_bytes must be at least 1280, the size Teltonika devices send".into(),
            ));
        }
        if let Some(u) = &self.map_tiles_url
            && (tile_origin(u).is_none() || !["{z}", "{x}", "{y}"].iter().all(|p| u.contains(p)))
        {
            return Err(ConfigError(format!(
                "map_tiles_url is an http:// or https:// template with {{z}}, {{x}} and {{y}}, not {u:?}"
            )));
        }
        if let Some(u) = &self.nats_url
            && !["nats://", "tls://"].iter().any(|p| u.starts_with(p))
        {
            return Err(ConfigError(format!(
                "nats_url is nats://host[:port] (or tls://host[:port]), not {u:?}"
            )));
        }
        if let Some(n) = &self.node_name
            && (n.is_empty()
                || n.len() > 64
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        {
            return Err(ConfigError(format!(
                "node_name is 1 to 64 letters, digits, '-', '_' or '.', not {n:?}"
            )));
        }
        if let Some(u) = &self.address_lookup_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(ConfigError(format!(
                "address_lookup_url must start with http:// or https://, not {u:?}"
            )));
        }
        if let Some(u) = &self.database_url
            && !storage_postgres::is_postgres_url(u)
        {
            return Err(ConfigError(format!(
                "database_url is a postgres:// URL (the embedded database needs none: it lives in the data folder), not {:?}",
                storage_postgres::redact(u)
            )));
        }
        if self.batch_max_rows == 0 || self.max_connections == 0 {
            return Err(ConfigError(
                "batch_max_rows and max_connections must be above 0".into(),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    database_url: Option<String>,
    http: Option<SocketAddr>,
    teltonika: Option<SocketAddr>,
    osmand: Option<SocketAddr>,
    max_connections: Option<usize>,
    first_byte_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    max_frame_bytes: Option<usize>,
    batch_max_rows: Option<usize>,
    staging_lifetime_hours: Option<u64>,
    fleet_stale_after_secs: Option<u64>,
    address_lookup_url: Option<String>,
    evaluation_grace_days: Option<i64>,
    ledger_checkpoint_dir: Option<PathBuf>,
    ledger_checkpoint_minutes: Option<u64>,
    map_tiles_url: Option<String>,
    map_tiles_attribution: Option<String>,
    secure_cookies: Option<bool>,
    mqtt_url: Option<String>,
    mqtt_topic: Option<String>,
    nats_url: Option<String>,
    node_name: Option<String>,
    purpose_max_lag_secs: Option<u64>,
    request_timeout_secs: Option<u64>,
    descriptor_reserve: Option<usize>,
    owntracks_keys: Option<std::collections::HashMap<String, String>>,
    notify: Option<NotifyFile>,
}

/// `[notify]`: who is told when an alarm window opens.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyFile {
    base_url: Option<String>,
    attempts: Option<u32>,
    first_retry_secs: Option<u64>,
    smtp: Option<SmtpFile>,
    webhook: Option<WebhookFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpFile {
    host: String,
    port: Option<u16>,
    /// `starttls` (default, port 587), `tls` (port 465) or `none` (a relay on this machine).
    tls: Option<String>,
    username: Option<String>,
    password: Option<String>,
    from: String,
    to: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookFile {
    url: String,
    secret: Option<String>,
}

impl NotifyFile {
    fn into_settings(self) -> Result<crate::notify::NotifySettings, ConfigError> {
        use crate::notify::{Secret, SmtpSettings, SmtpTls, WebhookSettings};
        let defaults = crate::notify::NotifySettings::default();
        let smtp = match self.smtp {
            None => None,
            Some(s) => {
                let tls = match s.tls.as_deref() {
                    None => SmtpTls::StartTls,
                    Some(t) => SmtpTls::parse(t).ok_or_else(|| {
                        ConfigError(format!(
                            "notify.smtp.tls is starttls, tls or none, not {t:?}"
                        ))
                    })?,
                };
                if s.to.is_empty() || s.to.iter().any(|t| !t.contains('@')) {
                    return Err(ConfigError(
                        "notify.smtp.to lists the e-mail addresses to tell, such as [\"vakt@example.no\"]".into(),
                    ));
                }
                if s.username.is_some() && tls == SmtpTls::None {
                    return Err(ConfigError(
                        "notify.smtp: credentials are never sent without TLS; set tls = \"starttls\" or \"tls\"".into(),
                    ));
                }
                Some(SmtpSettings {
                    port: s.port.unwrap_or(match tls {
                        SmtpTls::Tls => 465,
                        SmtpTls::StartTls => 587,
                        SmtpTls::None => 25,
                    }),
                    host: s.host,
                    tls,
                    username: s.username,
                    password: s.password.map(Secret),
                    from: s.from,
                    to: s.to,
                })
            }
        };
        let webhook = match self.webhook {
            None => None,
            Some(w) => {
                if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
                    return Err(ConfigError(format!(
                        "notify.webhook.url must start with https:// or http://, not {:?}",
                        w.url
                    )));
                }
                let secret = w
                    .secret
                    .or_else(|| std::env::var("SPORVERN_WEBHOOK_SECRET").ok())
                    .filter(|s| s.len() >= 16)
                    .ok_or_else(|| {
                        ConfigError(
                            "notify.webhook.secret (or SPORVERN_WEBHOOK_SECRET) is needed: at least 16 characters, shared with the receiver to check the signature".into(),
                        )
                    })?;
                Some(WebhookSettings {
                    url: w.url,
                    secret: Secret(secret),
                })
            }
        };
        Ok(crate::notify::NotifySettings {
            base_url: self.base_url,
            smtp,
            webhook,
            attempts: self.attempts.unwrap_or(defaults.attempts).max(1),
            first_retry: self
                .first_retry_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.first_retry),
        })
    }
}
