//! CSRF tokens for forms: HMAC-SHA256 (RFC 2104) of the session id under a server secret.

use sha2::{Digest, Sha256};

const BLOCK: usize = 64;
/// Domain separation, so the MAC cannot be confused with another use of the same secret.
const CSRF_CONTEXT: &[u8] = b"sporvern-csrf-v1\0";

/// HMAC-SHA256 per RFC 2104.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut ipad = [0x36u8; BLOCK];
    let mut opad = [0x5cu8; BLOCK];
    for i in 0..BLOCK {
        ipad[i] ^= k[i];
        opad[i] ^= k[i];
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// The CSRF token for a session: hex of HMAC-SHA256(secret, context ‖ session id).
pub fn csrf_token(session_secret: &[u8], session_id: &str) -> String {
    let mut msg = CSRF_CONTEXT.to_vec();
    msg.extend_from_slice(session_id.as_bytes());
    hex::encode(hmac_sha256(session_secret, &msg))
}

/// Whether `presented` is the CSRF token for this session, compared in constant time.
pub fn verify_csrf(session_secret: &[u8], session_id: &str, presented: &str) -> bool {
    crate::ct_eq(
        csrf_token(session_secret, session_id).as_bytes(),
        presented.as_bytes(),
    )
}
