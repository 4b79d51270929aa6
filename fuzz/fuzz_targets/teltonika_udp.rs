#![no_main]

use codec::teltonika;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = teltonika::parse_udp(data) {
        for r in p.avl.to_records() {
            let _ = r.to_fix();
        }
    }
});
