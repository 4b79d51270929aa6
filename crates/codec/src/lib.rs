//! Sporvern's device protocol codecs: Teltonika (Codec 8, 8 Extended, 16, 12), OsmAnd (the
//! Traccar Client app) and OwnTracks.
//!
//! Architecture Invariant: this crate is sans-IO. It takes bytes and returns values: no
//! sockets, no clocks, no async runtime. The server owns the connections and passes in what
//! it has buffered; the codecs say what the bytes are, how many were consumed, and what to
//! answer.
//!
//! Following vector's codecs, Teltonika decoding is split in two: *framing* (bytes buffered
//! from a stream → one complete frame, see [`teltonika::next_frame`]) and *format* (one frame →
//! records, see [`teltonika::AvlPacket`]). Every error says whether the stream can continue.

mod common;
pub mod odometer;
pub mod osmand;
pub mod owntracks;
pub mod teltonika;
