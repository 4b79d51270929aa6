#![no_main]
//! The first line is the query, the rest the body; the content type alternates by the first
//! byte so that forms and JSON are both reached.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let query = String::from_utf8_lossy(&data[..split]);
    let body = data.get(split + 1..).unwrap_or_default();
    let content_type = match data.first().map(|b| b % 3) {
        Some(0) => Some("application/json"),
        Some(1) => Some("application/x-www-form-urlencoded"),
        _ => None,
    };
    let _ = codec::osmand::parse(&query, content_type, body);
});
