//! OwnTracks JSON over HTTP (`POST /owntracks`). The app treats any answer as delivered, so a
//! storage failure closes the connection instead of answering.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, header};
use base64::Engine;
use domain::{ExternalId, Protocol};
use hyper::body::Incoming;

use super::{Ingestor, Registry};
use crate::http::{CloseConnection, plain, read_body, refuse_device};

/// The device identity: `user/device` from the `X-Limit-U` and `X-Limit-D` headers, or the
/// HTTP basic-auth user (then `user/device` with `X-Limit-D`, or the user alone).
fn identity(headers: &HeaderMap) -> Option<String> {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let basic_user = h(header::AUTHORIZATION.as_str())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.split_once(':').map(|(u, _)| u.to_owned()).or(Some(s)));
    let user = h("x-limit-u").map(str::to_owned).or(basic_user)?;
    Some(match h("x-limit-d") {
        Some(d) => format!("{user}/{d}"),
        None => user,
    })
}

/// OwnTracks payload keys per device (`[owntracks_keys]` in sporvern.toml: `"user/device" =
/// "passphrase"`). The app encrypts with libsodium's `crypto_secretbox` (XSalsa20-Poly1305)
/// under the passphrase's UTF-8 bytes, zero-padded or cut to 32 bytes, and sends
/// `{"_type":"encrypted","data":base64(nonce ‖ box)}`. Never printed.
#[derive(Clone, Default)]
pub struct Keys(Arc<HashMap<String, [u8; 32]>>);

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({} devices, not shown)", self.0.len())
    }
}

impl Keys {
    pub fn from_passphrases(map: HashMap<String, String>) -> Keys {
        Keys(Arc::new(
            map.into_iter()
                .map(|(who, pass)| (who, key_from_passphrase(&pass)))
                .collect(),
        ))
    }
}

/// The 32-byte key the app makes of its passphrase: the UTF-8 bytes, zero-padded or cut.
pub fn key_from_passphrase(passphrase: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let b = passphrase.as_bytes();
    let n = b.len().min(32);
    key[..n].copy_from_slice(&b[..n]);
    key
}

/// The payload as the codec should see it: decrypted when the app sent it encrypted. The
/// error says what to fix (a key to configure, or the wrong one).
pub fn open_payload<'a>(
    body: &'a [u8],
    who: &str,
    keys: &Keys,
) -> Result<std::borrow::Cow<'a, [u8]>, String> {
    #[derive(serde::Deserialize)]
    struct Encrypted {
        #[serde(rename = "_type")]
        kind: String,
        data: Option<String>,
    }
    let Ok(e) = serde_json::from_slice::<Encrypted>(body) else {
        return Ok(std::borrow::Cow::Borrowed(body));
    };
    if e.kind != "encrypted" {
        return Ok(std::borrow::Cow::Borrowed(body));
    }
    let Some(key) = keys.0.get(who) else {
        return Err(format!(
            "encrypted OwnTracks payload from {who:?}, but no key is configured for it: add it under [owntracks_keys] in sporvern.toml (the passphrase set in the app)"
        ));
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(e.data.unwrap_or_default().trim())
        .map_err(|_| format!("encrypted OwnTracks payload from {who:?}: data is not base64"))?;
    if raw.len() < 24 + 16 {
        return Err(format!(
            "encrypted OwnTracks payload from {who:?}: too short for a nonce and a tag"
        ));
    }
    use crypto_secretbox::aead::{Aead, KeyInit};
    let (nonce, sealed) = raw.split_at(24);
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&crypto_secretbox::Key::from(*key));
    cipher
        .decrypt(crypto_secretbox::Nonce::from_slice(nonce), sealed)
        .map(std::borrow::Cow::Owned)
        .map_err(|_| {
            format!(
                "encrypted OwnTracks payload from {who:?} does not open with the configured key: check the passphrase in the app and in [owntracks_keys]"
            )
        })
}

fn json(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

pub async fn handle(
    req: Request<Incoming>,
    peer: SocketAddr,
    ingestor: Ingestor,
    registry: Registry,
    keys: Keys,
) -> Result<Response<Body>, CloseConnection> {
    let counters = ingestor.metrics().protocol(Protocol::Owntracks);
    let reject = |status: StatusCode, why: String| {
        refuse_device(ingestor.metrics(), Protocol::Owntracks, peer, status, why)
    };
    if req.method() != Method::POST {
        return reject(
            StatusCode::METHOD_NOT_ALLOWED,
            "OwnTracks publishes with POST".into(),
        );
    }
    let Some(who) = identity(req.headers()) else {
        return reject(
            StatusCode::UNAUTHORIZED,
            "no device identity: set the user (basic auth or X-Limit-U) and device (X-Limit-D) in the app".into(),
        );
    };
    let device = ExternalId::parse(Protocol::Owntracks, &who)
        .ok()
        .and_then(|id| registry.lookup(Protocol::Owntracks, &id));
    let Some(device) = device else {
        counters.connections_refused.fetch_add(1, Relaxed);
        counters.records_rejected.fetch_add(1, Relaxed);
        return reject(
            StatusCode::FORBIDDEN,
            format!(
                "unknown device {who:?}: register it in the organisation file (protocol = \"owntracks\")"
            ),
        );
    };
    let body = match read_body(req.into_body()).await {
        Ok(b) => b,
        Err(why) => return reject(StatusCode::BAD_REQUEST, why),
    };
    let body = match open_payload(&body, &who, &keys) {
        Ok(b) => b,
        Err(why) => {
            counters.records_rejected.fetch_add(1, Relaxed);
            return reject(StatusCode::BAD_REQUEST, why);
        }
    };
    let fix = match codec::owntracks::parse(&body) {
        Ok(codec::owntracks::OwntracksMessage::Location(fix)) => Some(fix),
        Ok(_) => None,
        Err(e) => return reject(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let Some(fix) = fix else {
        // transition, waypoint, lwt …: understood, nothing to store.
        return Ok(json(StatusCode::OK, "[]"));
    };
    let (fixes, refused) = ingestor.screen(Protocol::Owntracks, &who, peer, [Ok(fix)]);
    if let Some(r) = refused.first() {
        // Any answer is "delivered" to the app, so the refusal ends there; the reason is in
        // the answer for whoever looks, and in the log and the metrics for the operator.
        return Ok(plain(
            StatusCode::BAD_REQUEST,
            format!("record refused, not stored: {}", r.why),
        ));
    }
    match ingestor.submit(Protocol::Owntracks, device.id, fixes).await {
        Ok(_) => Ok(json(StatusCode::OK, "[]")),
        Err(e) => {
            if let Some(more) = crate::throttle::allow("owntracks: not stored") {
                tracing::error!(%peer, device = %who, error = %e, suppressed_since_last = more, "owntracks fix not stored; closing without an answer so the app resends");
            }
            Err(CloseConnection(e.to_string()))
        }
    }
}
