//! `sporvern simulate`: vehicles driving plausible routes around Oslo, speaking the real
//! device protocols (Teltonika over TCP, OsmAnd and OwnTracks over HTTP) to a server, counting
//! what the server acknowledged and how long it took. The demo's drivers and the load
//! generator are the same code.

mod http;
pub mod route;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use codec::teltonika::{self as tk, Codec, IoValue, Record};
use domain::{Imei, Protocol, Timestamp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use route::{Sample, Vehicle};

#[derive(Clone, Debug)]
pub struct SimDevice {
    pub protocol: Protocol,
    pub id: String,
    pub seed: u64,
}

/// Where the server listens.
#[derive(Clone, Copy, Debug, Default)]
pub struct Targets {
    pub teltonika: Option<SocketAddr>,
    pub osmand: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub devices: Vec<SimDevice>,
    pub targets: Targets,
    /// Records each device produces per second (of wall-clock time).
    pub records_per_second: f64,
    /// Records per Teltonika frame (the HTTP protocols send one fix per request).
    pub records_per_frame: usize,
    /// How far the vehicle's own clock moves per record. Equal to 1/rate for a real-time
    /// demo; shorter wall-clock gaps with a fixed step make a load test whose fixes still
    /// look like driving.
    pub fix_step: Duration,
    /// Stop after this long; `None` runs until the process ends.
    pub duration: Option<Duration>,
    /// Spread connection starts over this long, so 1,000 devices do not all log in at once.
    pub ramp: Duration,
    /// Also send what a purpose must drop: RPM, fuel, harsh-braking events.
    pub sensor_data: bool,
    /// Start the vehicles' clocks this far in the past and stop each device once its clock
    /// reaches the present: a fast-forwarded history (the demo's first minutes).
    pub history: Option<Duration>,
    /// After the history has caught up, go on driving the same vehicles in real time (one
    /// record per frame, this step per record, in real time), instead of stopping: the demo's
    /// vehicles keep their odometers and routes across the switch.
    pub then_live: Option<Duration>,
}

impl Config {
    pub fn new(devices: Vec<SimDevice>, targets: Targets) -> Config {
        Config {
            devices,
            targets,
            records_per_second: 1.0,
            records_per_frame: 1,
            fix_step: Duration::from_secs(1),
            duration: Some(Duration::from_secs(10)),
            ramp: Duration::from_secs(1),
            sensor_data: true,
            history: None,
            then_live: None,
        }
    }
}

/// What the run achieved.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub devices: usize,
    pub sent: u64,
    pub acknowledged: u64,
    pub refused_devices: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// ACK latencies, microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

impl Report {
    pub fn records_per_second(&self) -> f64 {
        self.acknowledged as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn latency_percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }

    pub fn summary(&self) -> String {
        format!(
            "devices {}  sent {}  acknowledged {}  refused devices {}  errors {}  elapsed {:.1}s  ack rate {:.0} records/s  ack latency p50 {:.2} ms  p99 {:.2} ms",
            self.devices,
            self.sent,
            self.acknowledged,
            self.refused_devices,
            self.errors,
            self.elapsed.as_secs_f64(),
            self.records_per_second(),
            self.latency_percentile_ms(0.50),
            self.latency_percentile_ms(0.99),
        )
    }
}

#[derive(Default)]
struct Totals {
    sent: AtomicU64,
    acknowledged: AtomicU64,
    refused: AtomicU64,
    errors: AtomicU64,
    latencies: Mutex<Vec<u32>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("no address for the {0} protocol: pass it on the command line")]
    NoTarget(Protocol),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the server refused device {0}: is it registered in the organisation?")]
    Refused(String),
    #[error("{0}")]
    Protocol(String),
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Runs every device until the duration is over (or forever), and reports.
pub async fn run(cfg: Config) -> Report {
    let totals = Arc::new(Totals::default());
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let n = cfg.devices.len().max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, dev) in cfg.devices.iter().cloned().enumerate() {
        let (cfg, totals, stop) = (cfg.clone(), totals.clone(), stop.clone());
        let delay = cfg.ramp.mul_f64(i as f64 / n as f64);
        tasks.spawn(async move {
            tokio::time::sleep(delay).await;
            drive(dev, &cfg, &totals, &stop).await;
        });
    }
    let Some(d) = cfg.duration else {
        // No time limit: run until every device is done (a history caught up) or forever.
        while tasks.join_next().await.is_some() {}
        return report(&cfg, &totals, started).await;
    };
    tokio::time::sleep(d).await;
    stop.store(true, Relaxed);
    // Devices finish the exchange in flight, then stop.
    let grace = tokio::time::sleep(Duration::from_secs(10));
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = tasks.join_next() => if next.is_none() { break },
            () = &mut grace => { tasks.abort_all(); break }
        }
    }
    report(&cfg, &totals, started).await
}

async fn report(cfg: &Config, totals: &Totals, started: Instant) -> Report {
    let mut latencies = std::mem::take(&mut *totals.latencies.lock().await);
    latencies.sort_unstable();
    Report {
        devices: cfg.devices.len(),
        sent: totals.sent.load(Relaxed),
        acknowledged: totals.acknowledged.load(Relaxed),
        refused_devices: totals.refused.load(Relaxed),
        errors: totals.errors.load(Relaxed),
        elapsed: started.elapsed(),
        latencies_us: latencies,
    }
}

/// One device's life: connect, send on schedule, wait for each ACK, reconnect on failure
/// and resend what was not acknowledged — as a real unit does.
async fn drive(dev: SimDevice, cfg: &Config, totals: &Totals, stop: &AtomicBool) {
    let mut vehicle = Vehicle::new(dev.seed);
    let mut step_ms = i64::try_from(cfg.fix_step.as_millis())
        .unwrap_or(1000)
        .max(1);
    let per_frame = if dev.protocol == Protocol::Teltonika {
        cfg.records_per_frame.max(1)
    } else {
        1
    };
    // The device's clock: real time now, advancing a fixed step per record.
    let mut fix_ms = wall_ms() - wall_ms() % 1000;
    let history_end = cfg.history.map(|h| {
        let end = fix_ms;
        fix_ms -= i64::try_from(h.as_millis()).unwrap_or(0);
        end
    });
    let mut per_frame = per_frame;
    let mut history_end = history_end;
    let period = Duration::from_secs_f64(per_frame as f64 / cfg.records_per_second.max(1e-6));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut conn: Option<Conn> = None;
    let mut pending: Vec<(Timestamp, Sample)> = Vec::new();
    let mut local_latencies = Vec::new();
    while !stop.load(Relaxed) {
        if history_end.is_some_and(|end| fix_ms >= end) && pending.is_empty() {
            let Some(live_step) = cfg.then_live else {
                break;
            };
            // Caught up: the same vehicle goes on in real time.
            history_end = None;
            per_frame = 1;
            step_ms = i64::try_from(live_step.as_millis()).unwrap_or(1000).max(1);
            tick = tokio::time::interval(live_step);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        tick.tick().await;
        if pending.is_empty() {
            for _ in 0..per_frame {
                let s = vehicle.step(step_ms as f64 / 1000.0);
                pending.push((Timestamp::from_millis(fix_ms), s));
                fix_ms += step_ms;
            }
        }
        if conn.is_none() {
            match Conn::open(&dev, &cfg.targets).await {
                Ok(c) => conn = Some(c),
                Err(SimError::Refused(id)) => {
                    totals.refused.fetch_add(1, Relaxed);
                    tracing::warn!(device = %id, "the server refused this simulated device; it stops");
                    break;
                }
                Err(e) => {
                    totals.errors.fetch_add(1, Relaxed);
                    tracing::debug!(device = %dev.id, error = %e, "cannot connect; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        totals.sent.fetch_add(pending.len() as u64, Relaxed);
        let sent_at = Instant::now();
        match c.send(&dev, &pending, cfg.sensor_data).await {
            Ok(acked) => {
                local_latencies
                    .push(u32::try_from(sent_at.elapsed().as_micros()).unwrap_or(u32::MAX));
                totals.acknowledged.fetch_add(acked as u64, Relaxed);
                if acked == pending.len() {
                    pending.clear();
                } else {
                    // Partial ACK: keep what was not acknowledged and send it again.
                    pending.drain(..acked.min(pending.len()));
                }
            }
            Err(e) => {
                totals.errors.fetch_add(1, Relaxed);
                tracing::debug!(device = %dev.id, error = %e, "exchange failed; reconnecting and resending");
                conn = None;
            }
        }
        if local_latencies.len() >= 256 {
            totals.latencies.lock().await.append(&mut local_latencies);
        }
    }
    totals.latencies.lock().await.append(&mut local_latencies);
}

enum Conn {
    Teltonika(TcpStream),
    Http(http::Client),
}

impl Conn {
    async fn open(dev: &SimDevice, t: &Targets) -> Result<Conn, SimError> {
        match dev.protocol {
            Protocol::Teltonika => {
                let addr = t.teltonika.ok_or(SimError::NoTarget(Protocol::Teltonika))?;
                let imei = Imei::parse(&dev.id).map_err(|e| SimError::Protocol(e.to_string()))?;
                let mut s = TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                s.write_all(&tk::encode_login(imei)).await?;
                let mut answer = [0u8; 1];
                s.read_exact(&mut answer).await?;
                if answer[0] != tk::LOGIN_ACCEPT {
                    return Err(SimError::Refused(dev.id.clone()));
                }
                Ok(Conn::Teltonika(s))
            }
            Protocol::Osmand => {
                let addr = t.osmand.ok_or(SimError::NoTarget(Protocol::Osmand))?;
                Ok(Conn::Http(http::Client::connect(addr).await?))
            }
            Protocol::Owntracks => {
                let addr = t.http.ok_or(SimError::NoTarget(Protocol::Owntracks))?;
                Ok(Conn::Http(http::Client::connect(addr).await?))
            }
        }
    }

    /// Sends the records; returns how many the server acknowledged.
    async fn send(
        &mut self,
        dev: &SimDevice,
        recs: &[(Timestamp, Sample)],
        sensors: bool,
    ) -> Result<usize, SimError> {
        match self {
            Conn::Teltonika(s) => {
                let records: Vec<Record> = recs
                    .iter()
                    .map(|(t, x)| teltonika_record(*t, x, sensors))
                    .collect();
                let frame = tk::encode_tcp_frame(Codec::Codec8E, &records)
                    .map_err(|e| SimError::Protocol(e.to_string()))?;
                s.write_all(&frame).await?;
                let mut ack = [0u8; 4];
                s.read_exact(&mut ack).await?;
                Ok(u32::from_be_bytes(ack) as usize)
            }
            Conn::Http(c) => {
                let mut acked = 0;
                for (t, x) in recs {
                    let status = match dev.protocol {
                        Protocol::Owntracks => {
                            let (user, device) =
                                dev.id.split_once('/').unwrap_or((dev.id.as_str(), ""));
                            let body = format!(
                                r#"{{"_type":"location","lat":{:.6},"lon":{:.6},"tst":{},"vel":{},"cog":{},"acc":8,"batt":77,"tid":"sv"}}"#,
                                x.position.lat(),
                                x.position.lon(),
                                t.millis() / 1000,
                                x.speed_kmh.round(),
                                x.course_deg
                            );
                            let mut headers = vec![
                                ("X-Limit-U", user.to_owned()),
                                ("Content-Type", "application/json".to_owned()),
                            ];
                            if !device.is_empty() {
                                headers.push(("X-Limit-D", device.to_owned()));
                            }
                            c.request("POST", "/owntracks", &headers, body.as_bytes())
                                .await?
                        }
                        _ => {
                            let mut q = format!(
                                "/?id={}&timestamp={}&lat={:.6}&lon={:.6}&speed={:.1}&bearing={}&altitude=40&accuracy=6&batt=81",
                                dev.id,
                                t.millis() / 1000,
                                x.position.lat(),
                                x.position.lon(),
                                x.speed_kmh / 1.852,
                                x.course_deg
                            );
                            if sensors {
                                q.push_str(&format!(
                                    "&ignition={}&odometer={:.0}&rpm={}",
                                    x.ignition,
                                    x.odometer_m,
                                    rpm(x)
                                ));
                            }
                            c.request("GET", &q, &[], b"").await?
                        }
                    };
                    match status {
                        200 => acked += 1,
                        403 | 404 => return Err(SimError::Refused(dev.id.clone())),
                        s => return Err(SimError::Protocol(format!("server answered {s}"))),
                    }
                }
                Ok(acked)
            }
        }
    }
}

fn rpm(s: &Sample) -> u16 {
    if s.ignition {
        800 + (s.speed_kmh * 30.0) as u16
    } else {
        0
    }
}

/// A Teltonika FMB-style record: ignition, movement, odometer, voltage; with sensor data,
/// also speed, RPM, fuel and green-driving events — what the purposes must drop.
pub fn teltonika_record(t: Timestamp, s: &Sample, sensors: bool) -> Record {
    let mut io = vec![
        (239, IoValue::U8(u8::from(s.ignition))),
        (240, IoValue::U8(u8::from(s.speed_kmh > 0.0))),
        // DIN1: the panic button; DIN2: the privacy button, as the demo organisation maps them.
        (1, IoValue::U8(u8::from(s.panic))),
        (2, IoValue::U8(u8::from(s.private))),
        (21, IoValue::U8(4)),
        (66, IoValue::U16(13_800)),
        (16, IoValue::U32(s.odometer_m as u32)),
    ];
    if sensors {
        io.push((24, IoValue::U16(s.speed_kmh as u16)));
        io.push((85, IoValue::U16(rpm(s))));
        io.push((89, IoValue::U8(63)));
        if s.speed_kmh > 65.0 {
            io.push((253, IoValue::U8(2)));
            io.push((254, IoValue::U16(140)));
        }
    }
    Record {
        time: t,
        priority: 0,
        lon: s.position.lon(),
        lat: s.position.lat(),
        altitude: 40,
        angle: s.course_deg,
        satellites: 11,
        speed_kmh: s.speed_kmh as u16,
        event_io_id: 0,
        generation_type: None,
        io,
    }
}

/// `n` Teltonika devices with IMEIs from `first_imei` on.
pub fn teltonika_fleet(first_imei: u64, n: usize) -> Vec<SimDevice> {
    (0..n as u64)
        .map(|i| SimDevice {
            protocol: Protocol::Teltonika,
            id: format!("{:015}", first_imei + i),
            seed: first_imei + i,
        })
        .collect()
}

/// An organisation file registering the fleet `teltonika_fleet(first_imei, n)`.
pub fn fleet_org(first_imei: u64, n: usize) -> String {
    let mut s = String::from("[organisation]\nname = \"Load test fleet\"\n");
    for i in 0..n {
        s.push_str(&format!(
            "\n[[vehicles]]\nreg = \"LT{i:05}\"\nkind = \"van\"\npurposes = [\"driving_log\", \"fleet_view\"]\n\n[[devices]]\nprotocol = \"teltonika\"\nid = \"{:015}\"\nvehicle = \"LT{i:05}\"\n",
            first_imei + i as u64
        ));
    }
    s
}
