//! The edge's parsers of ids and cursors: any text is a value or a refusal, never a panic,
//! and a value shows as the text it came from (normalised only where the type says so).
//!
//! The input is the text; its first four bytes are also a connection's `first`, and a NUL
//! splits it into an operation name and an idempotency key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sparkfeed_api::{check_paging, cursor_of};
use sparkfeed_domain::{
    Asin, Caller, ClientKey, CommentId, ContractId, Currency, Handle, InterestSlug, PostId, Role,
    UserId,
};

/// Ids shown as parsed: the value's text is the input, and parses to itself.
macro_rules! verbatim {
    ($text:expr, $($ty:ty),*) => {$(
        if let Ok(value) = <$ty>::parse($text) {
            assert_eq!(value.as_str(), $text);
            assert_eq!(value.to_string(), $text);
            assert_eq!(<$ty>::parse(value.as_str()).as_ref(), Ok(&value));
        }
    )*};
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    verbatim!(
        text,
        UserId,
        PostId,
        CommentId,
        ContractId,
        Asin,
        InterestSlug
    );
    if let Ok(handle) = Handle::parse(text) {
        assert_eq!(handle.as_str(), text.to_ascii_lowercase());
        assert_eq!(Handle::parse(handle.as_str()), Ok(handle));
    }
    if let Ok(currency) = Currency::parse(text) {
        assert_eq!(currency.to_string(), text);
    }
    if Role::parse(text).is_ok() {
        assert!(["enthusiast", "moderator", "analyst", "auditor", "admin"].contains(&text));
    }

    let max = 50;
    let first = data
        .get(..4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    match check_paging(first, Some(text.to_owned()), max) {
        Ok((size, after)) => {
            assert!(size <= max);
            let after = after.expect("a cursor was given");
            let (_, again) = check_paging(None, Some(cursor_of(after)), max).expect("own cursor");
            assert_eq!(again, Some(after));
        }
        Err(e) => assert_eq!(e.code(), "BAD_USER_INPUT", "{e}"),
    }

    let (operation, key) = text.split_once('\0').unwrap_or(("smile", text));
    let chars = key.chars().count();
    for caller in [
        Caller::Anonymous,
        Caller::User(UserId::parse("u1").expect("id")),
        Caller::System("fuzz".into()),
    ] {
        let min = match caller {
            Caller::Anonymous => ClientKey::MIN_ANONYMOUS_CHARS,
            _ => 1,
        };
        match ClientKey::new(operation, &caller, key) {
            Ok(k) => {
                assert!((min..=ClientKey::MAX_CHARS).contains(&chars));
                assert_eq!(ClientKey::new(operation, &caller, key), Ok(k));
                let _: PostId = k.derive();
            }
            Err(_) => assert!(!(min..=ClientKey::MAX_CHARS).contains(&chars)),
        }
    }
});
