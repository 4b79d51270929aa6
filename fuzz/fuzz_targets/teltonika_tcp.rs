#![no_main]
//! A TCP stream: frame it as the server does, decode every data frame both ways, and check
//! that the view and the owned records agree.

use codec::teltonika::{self, Framed, Payload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut buf = data;
    while let Ok(framed) = teltonika::next_frame(buf, 65536) {
        if let Framed::Data { payload, .. } = framed
            && let Ok(Payload::Avl(p)) = teltonika::parse_payload(payload)
        {
            let owned = p.to_records();
            assert_eq!(owned.len(), p.len());
            for (v, o) in p.records().zip(&owned) {
                assert_eq!(v.io().count(), o.io.len());
                let _ = o.to_fix();
            }
        }
        let n = framed.consumed();
        if n == 0 {
            break;
        }
        buf = &buf[n..];
    }
    let _ = teltonika::decode_json(data);
});
