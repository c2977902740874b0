//! The API's RFC 3339 timestamps: any text parses or is refused, never a panic; what parses
//! formats to text that parses to the same microseconds; and every instant of years 0000
//! to 9999 (the input's first eight bytes) formats to text that parses back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sparkfeed_api::time::{format, parse};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(micros) = parse(&text) {
        let shown = format(micros);
        assert_eq!(parse(&shown), Some(micros), "{text:?} shown as {shown:?}");
    }
    if let Some(bytes) = data.get(..8) {
        let mut le = [0u8; 8];
        le.copy_from_slice(bytes);
        let micros = i64::from_le_bytes(le);
        let shown = format(micros);
        let first = parse("0000-01-01T00:00:00Z").expect("year 0");
        let last = parse("9999-12-31T23:59:59.999999Z").expect("year 9999");
        if (first..=last).contains(&micros) {
            assert_eq!(parse(&shown), Some(micros), "{micros} shown as {shown:?}");
        }
    }
});
