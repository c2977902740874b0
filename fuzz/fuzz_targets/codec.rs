//! Stored bytes, as the log reads them back: opening any bytes is a record or an error,
//! never a panic; a record that opens re-encodes to the same bytes (format 1 has one
//! encoding per record); a domain event read from it, at the current version, encodes to
//! the same payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sparkfeed_domain::events::{DomainEvent, upcasters};
use sparkfeed_events::codec;

fuzz_target!(|stored: &[u8]| {
    let Ok(event) = codec::open(stored) else {
        return;
    };
    let split = codec::split(stored).expect("opened bytes split");
    assert_eq!(split.hash, event.hash);
    match codec::encode_record(&event.record) {
        Ok(bytes) => assert_eq!(bytes, split.record_bytes, "one encoding per record"),
        // The body limit counts the body alone, the record limit the format byte too.
        Err(e) => assert_eq!(e.code(), "RECORD_TOO_LARGE", "{e}"),
    }
    if let Ok(domain) = DomainEvent::decode(&upcasters(), &event) {
        assert_eq!(domain.event_type(), event.record.event_type.as_str());
        if domain.schema_version() == event.record.schema_version {
            assert_eq!(
                domain.encode().expect("a decoded event encodes"),
                event.record.payload,
                "one encoding per payload"
            );
        }
    }
});
