//! Passwords (Argon2id, PHC strings) and tokens (random, shown once, SHA-256 at rest).

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

use crate::UserId;

/// Argon2id cost parameters. The PHC string records them, so verification works whatever
/// parameters a hash was made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Parallelism.
    pub p: u32,
}

impl PasswordParams {
    /// OWASP's recommended Argon2id minimum: 19 MiB, 2 iterations, 1 lane.
    pub const DEFAULT: PasswordParams = PasswordParams {
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
    };
    /// Cheap parameters for tests only.
    pub const TEST: PasswordParams = PasswordParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };
}

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in characters (bounds the cost of hashing).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Why a new password is not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleError {
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must be at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("the password must not be one character repeated")]
    OneRepeatedChar,
}

/// Checks a new password against the rules: 12 to 1024 characters, not one character repeated.
pub fn check_password_rules(password: &str) -> Result<(), PasswordRuleError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(PasswordRuleError::TooShort);
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(PasswordRuleError::TooLong);
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(PasswordRuleError::OneRepeatedChar);
    }
    Ok(())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).expect("the operating system's random source is available");
    buf
}

/// Hashes a password with Argon2id and the default parameters, random 16-byte salt, as a PHC
/// string (`$argon2id$v=19$m=19456,t=2,p=1$…`). Does not check the password rules.
pub fn hash_password(password: &str) -> String {
    hash_password_with(password, PasswordParams::DEFAULT)
        .expect("the default Argon2 parameters are valid")
}

/// Hashes a password with Argon2id and the given parameters.
pub fn hash_password_with(password: &str, params: PasswordParams) -> Result<String, String> {
    let params = Params::new(params.m_kib, params.t, params.p, None).map_err(|e| e.to_string())?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| e.to_string())?;
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC string `phc`. Only Argon2id hashes are accepted; a
/// malformed hash never matches. The comparison of the result is constant-time.
///
/// The Argon2 memory (19 MiB at the default cost) is allocated here, at least
/// [`UNMAPPED_ABOVE_BYTES`] large, so that the allocator maps it fresh and unmaps it when the
/// check ends: a smaller buffer is served from a heap arena after the first one is freed, and
/// stays resident — 40 sequential logins once left 400 MB behind.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    if hash.algorithm != argon2::ARGON2ID_IDENT {
        return false;
    }
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let version = hash
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or(Version::V0x13);
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let blocks = params.block_count();
    let room = blocks.max(UNMAPPED_ABOVE_BYTES / argon2::Block::SIZE + 1);
    let mut memory: Vec<argon2::Block> = Vec::new();
    if memory.try_reserve_exact(room).is_err() {
        return false;
    }
    memory.resize(blocks, argon2::Block::default());
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(Algorithm::Argon2id, version, params);
    if argon
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..])
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    argon2::password_hash::Output::new(&out).is_ok_and(|o| o == expected)
}

/// glibc's largest dynamic mmap threshold (32 MiB on 64-bit): an allocation above it is
/// always its own mapping, returned to the system when freed.
pub const UNMAPPED_ABOVE_BYTES: usize = 32 * 1024 * 1024 + 4096;

/// The SHA-256 of a token: what is stored, never the token itself.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// The hash of a presented token, for looking its record up.
    pub fn of(token: &str) -> TokenHash {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn from_hex(s: &str) -> Option<TokenHash> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(TokenHash(out))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({})", self.to_hex())
    }
}

/// A new random token: 32 bytes from the operating system, hex (64 characters). The string is
/// shown once (or set as a cookie); only the hash is stored. Used for API bearer tokens and for
/// session ids alike.
pub fn new_token() -> (String, TokenHash) {
    let token = hex::encode(random_bytes::<32>());
    let hash = TokenHash::of(&token);
    (token, hash)
}

/// Why a presented token is not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("unknown token")]
    Unknown,
    #[error("the token has expired")]
    Expired,
    #[error("the token has been revoked")]
    Revoked,
}

/// A stored token (or session).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    pub hash: TokenHash,
    pub user: UserId,
    /// The first instant at which the token no longer works.
    pub expires_at_ms: i64,
    pub revoked: bool,
}

impl TokenRecord {
    /// A fresh record for a token made by [`new_token`].
    pub fn new(hash: TokenHash, user: UserId, expires_at_ms: i64) -> TokenRecord {
        TokenRecord {
            hash,
            user,
            expires_at_ms,
            revoked: false,
        }
    }

    /// Checks a presented token against this record at `now_ms`, comparing hashes in constant
    /// time. Revocation is reported before expiry.
    pub fn check(&self, presented: &str, now_ms: i64) -> Result<UserId, TokenError> {
        if !crate::ct_eq(&TokenHash::of(presented).0, &self.hash.0) {
            return Err(TokenError::Unknown);
        }
        if self.revoked {
            return Err(TokenError::Revoked);
        }
        if now_ms >= self.expires_at_ms {
            return Err(TokenError::Expired);
        }
        Ok(self.user.clone())
    }

    pub fn revoke(&mut self) {
        self.revoked = true;
    }
}
