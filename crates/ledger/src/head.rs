//! Ledger heads and their checkpoint text form.

use std::fmt;
use std::str::FromStr;

use crate::merkle::{Hash, empty_root};
use crate::verify::GENESIS_CHAIN;

/// The state of the ledger after `size` entries: the RFC 6962 root over
/// their leaf hashes and the chain hash of the last one. Written out
/// regularly as a checkpoint kept outside the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Head {
    /// Number of entries covered.
    pub size: u64,
    /// Merkle tree hash over the entries' leaf hashes.
    pub root: Hash,
    /// Chain hash of the last entry ([`GENESIS_CHAIN`] when empty).
    pub chain: Hash,
}

/// First line of the checkpoint text form.
const MAGIC: &str = "sporvern-ledger-checkpoint v1";

impl Head {
    /// The head of the empty ledger.
    pub fn empty() -> Head {
        Head {
            size: 0,
            root: empty_root(),
            chain: GENESIS_CHAIN,
        }
    }
}

/// The checkpoint text form:
///
/// ```text
/// sporvern-ledger-checkpoint v1
/// size 1234
/// root <64 lower-case hex digits>
/// chain <64 lower-case hex digits>
/// ```
///
/// each line ending in `\n`.
impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{MAGIC}")?;
        writeln!(f, "size {}", self.size)?;
        writeln!(f, "root {}", hex::encode(self.root))?;
        writeln!(f, "chain {}", hex::encode(self.chain))
    }
}

/// Why text is not a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHeadError {
    /// The first line is not `sporvern-ledger-checkpoint v1`.
    #[error("not a sporvern ledger checkpoint (v1)")]
    Magic,
    /// A line is missing or does not start with the expected field name.
    #[error("checkpoint: expected a line `{0} …`")]
    Field(&'static str),
    /// The size is not a decimal number.
    #[error("checkpoint: size is not a number")]
    Size,
    /// A hash is not 64 hex digits.
    #[error("checkpoint: {0} is not 64 hex digits")]
    Hex(&'static str),
    /// Text after the `chain` line.
    #[error("checkpoint: unexpected text after the chain line")]
    Trailing,
}

impl FromStr for Head {
    type Err = ParseHeadError;

    /// Parses the text form written by `Display`; `\r\n` line ends and a
    /// missing final newline are accepted, anything else extra is not.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut lines = s.lines();
        if lines.next() != Some(MAGIC) {
            return Err(ParseHeadError::Magic);
        }
        let size_text = field(lines.next(), "size")?;
        // Canonical decimal only: no sign, no leading zeros.
        if size_text.is_empty()
            || !size_text.bytes().all(|b| b.is_ascii_digit())
            || (size_text.len() > 1 && size_text.starts_with('0'))
        {
            return Err(ParseHeadError::Size);
        }
        let size = size_text.parse::<u64>().map_err(|_| ParseHeadError::Size)?;
        let root = hash(field(lines.next(), "root")?, "root")?;
        let chain = hash(field(lines.next(), "chain")?, "chain")?;
        if lines.next().is_some() {
            return Err(ParseHeadError::Trailing);
        }
        Ok(Head { size, root, chain })
    }
}

fn field<'a>(line: Option<&'a str>, name: &'static str) -> Result<&'a str, ParseHeadError> {
    line.and_then(|l| l.strip_prefix(name))
        .and_then(|l| l.strip_prefix(' '))
        .ok_or(ParseHeadError::Field(name))
}

fn hash(text: &str, name: &'static str) -> Result<Hash, ParseHeadError> {
    let mut out = [0u8; 32];
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ParseHeadError::Hex(name));
    }
    hex::decode_to_slice(text, &mut out).map_err(|_| ParseHeadError::Hex(name))?;
    Ok(out)
}
