//! Audit entries and their canonical byte encoding.

use std::fmt;
use std::str::FromStr;

use crate::merkle::{Hash, leaf_hash};

/// Version byte leading every canonical encoding. A future layout gets a new
/// number, so old entries keep hashing exactly as they did.
pub const ENCODING_VERSION: u8 = 1;

/// What kind of access or change an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Personal data was read.
    Read,
    /// Personal data left the system (export, report, art. 15/20 copy).
    Export,
    /// Personal data was changed.
    Change,
    /// Personal data was deleted (by hand or by retention).
    Delete,
    /// An attempt was refused; recorded so snooping can be found.
    Denied,
    /// Purposes, roles, retention or organisation changed.
    Config,
}

impl Action {
    /// Every action, in tag order.
    pub const ALL: [Action; 6] = [
        Action::Read,
        Action::Export,
        Action::Change,
        Action::Delete,
        Action::Denied,
        Action::Config,
    ];

    /// The byte used in the canonical encoding. Stable forever.
    pub fn tag(self) -> u8 {
        match self {
            Action::Read => 1,
            Action::Export => 2,
            Action::Change => 3,
            Action::Delete => 4,
            Action::Denied => 5,
            Action::Config => 6,
        }
    }

    /// The action for a canonical tag byte.
    pub fn from_tag(tag: u8) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.tag() == tag)
    }

    /// Lower-case name, as shown to people and stored in text columns.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Export => "export",
            Action::Change => "change",
            Action::Delete => "delete",
            Action::Denied => "denied",
            Action::Config => "config",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown action name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action {0:?} (expected read, export, change, delete, denied or config)")]
pub struct ParseActionError(pub String);

impl FromStr for Action {
    type Err = ParseActionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| ParseActionError(s.to_owned()))
    }
}

/// One audit record: who, in which role, for which purpose, touched whose
/// data, what, when, and with what outcome.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Position in the ledger, 0-based, gap-free.
    pub seq: u64,
    /// When, in milliseconds since the Unix epoch (UTC).
    pub at_ms: i64,
    /// Who: a user id or a system component (e.g. `"retention"`).
    pub actor: String,
    /// The role the actor acted in.
    pub role: String,
    /// The declared purpose of the access.
    pub purpose: String,
    /// Whose data: an employee number, never a name or a position.
    pub subject: Option<String>,
    /// What kind of access.
    pub action: Action,
    /// What was touched, e.g. `"driving_log EK12345 2026-11"`.
    pub object: String,
    /// The outcome, e.g. `"ok"` or the reason for a denial.
    pub outcome: String,
}

impl Entry {
    /// The canonical, unambiguous encoding that is hashed:
    ///
    /// ```text
    /// version u8 (= 1)
    /// seq     u64 big-endian
    /// at_ms   i64 big-endian
    /// actor, role, purpose          u32 BE length + UTF-8 bytes each
    /// subject u8 0 (none) | u8 1 + u32 BE length + UTF-8 bytes
    /// action  u8 tag
    /// object, outcome               u32 BE length + UTF-8 bytes each
    /// ```
    ///
    /// # Panics
    /// If a text field is longer than `u32::MAX` bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let text_len = self.actor.len()
            + self.role.len()
            + self.purpose.len()
            + self.subject.as_ref().map_or(0, String::len)
            + self.object.len()
            + self.outcome.len();
        let mut out = Vec::with_capacity(1 + 8 + 8 + 1 + 1 + 6 * 4 + text_len);
        out.push(ENCODING_VERSION);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.at_ms.to_be_bytes());
        put_str(&mut out, &self.actor);
        put_str(&mut out, &self.role);
        put_str(&mut out, &self.purpose);
        match &self.subject {
            None => out.push(0),
            Some(s) => {
                out.push(1);
                put_str(&mut out, s);
            }
        }
        out.push(self.action.tag());
        put_str(&mut out, &self.object);
        put_str(&mut out, &self.outcome);
        out
    }

    /// Parses a canonical encoding; the exact inverse of
    /// [`canonical_bytes`](Self::canonical_bytes). Trailing bytes are an error.
    pub fn from_canonical(bytes: &[u8]) -> Result<Entry, DecodeError> {
        let mut r = Reader { bytes, pos: 0 };
        let version = r.u8()?;
        if version != ENCODING_VERSION {
            return Err(DecodeError::Version(version));
        }
        let seq = u64::from_be_bytes(r.array()?);
        let at_ms = i64::from_be_bytes(r.array()?);
        let actor = r.string()?;
        let role = r.string()?;
        let purpose = r.string()?;
        let subject = match r.u8()? {
            0 => None,
            1 => Some(r.string()?),
            other => return Err(DecodeError::SubjectTag(other)),
        };
        let tag = r.u8()?;
        let action = Action::from_tag(tag).ok_or(DecodeError::ActionTag(tag))?;
        let object = r.string()?;
        let outcome = r.string()?;
        if r.pos != bytes.len() {
            return Err(DecodeError::Trailing(bytes.len() - r.pos));
        }
        Ok(Entry {
            seq,
            at_ms,
            actor,
            role,
            purpose,
            subject,
            action,
            object,
            outcome,
        })
    }

    /// RFC 6962 leaf hash of the canonical encoding: `SHA-256(0x00 || bytes)`.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.canonical_bytes())
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let len = u32::try_from(s.len()).expect("audit text field longer than 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Why bytes are not a canonical entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Unknown encoding version.
    #[error("unknown entry encoding version {0}")]
    Version(u8),
    /// Input ended early.
    #[error("entry encoding ends early")]
    Truncated,
    /// Subject presence byte is neither 0 nor 1.
    #[error("bad subject tag {0}")]
    SubjectTag(u8),
    /// Unknown action tag.
    #[error("bad action tag {0}")]
    ActionTag(u8),
    /// A text field is not UTF-8.
    #[error("text field is not UTF-8")]
    Utf8,
    /// Bytes left after the last field.
    #[error("{0} trailing bytes after entry")]
    Trailing(usize),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn string(&mut self) -> Result<String, DecodeError> {
        let len = u32::from_be_bytes(self.array()?) as usize;
        let raw = self.take(len)?;
        String::from_utf8(raw.to_vec()).map_err(|_| DecodeError::Utf8)
    }
}

/// An entry as stored: the entry and its chain hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoredEntry {
    /// The audit record.
    pub entry: Entry,
    /// `SHA-256(chain of previous entry || leaf hash of this entry)`.
    pub chain: Hash,
}
