//! The contract's own scalars: `Int64` for positions, counts and money in cents (GraphQL's
//! `Int` is 32-bit), and `DateTime` for timestamps.

use async_graphql::{InputValueError, InputValueResult, Number, Scalar, ScalarType, Value};

use crate::error::{ApiError, ApiResult};

/// The largest `Int64` served or accepted: positions, counts and cents are never negative,
/// and a signed 64-bit reader holds every value up to here.
const INT64_MAX: u64 = i64::MAX.unsigned_abs();

/// A whole number from 0 to 2^63-1: a log position, a count or an amount in cents.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Int64(pub u64);

impl From<u64> for Int64 {
    fn from(n: u64) -> Self {
        Self(n)
    }
}

impl Int64 {
    fn read(value: &Value) -> Option<u64> {
        let n = match value {
            Value::Number(n) => n.as_u64()?,
            // Digits only: no sign, no spaces, no exponent.
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().ok()?
            }
            _ => return None,
        };
        (n <= INT64_MAX).then_some(n)
    }
}

/// A 64-bit integer, never negative here: log positions, record counts and amounts in
/// cents (0 to 9223372036854775807). Served as a JSON number. JavaScript numbers hold
/// integers exactly only up to 2^53-1 (9007199254740991): read larger values with a
/// big-integer JSON parser. Accepted as a JSON number or as a decimal string
/// (`"9007199254740993"`).
#[Scalar(name = "Int64")]
impl ScalarType for Int64 {
    fn parse(value: Value) -> InputValueResult<Self> {
        match Self::read(&value) {
            Some(n) => Ok(Self(n)),
            None if matches!(value, Value::Number(_) | Value::String(_)) => {
                Err(InputValueError::custom(format!(
                    "Only integers from 0 to {INT64_MAX} are accepted, as a number or a \
                     decimal string."
                )))
            }
            None => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        Self::read(value).is_some()
    }

    fn to_value(&self) -> Value {
        Value::Number(Number::from(self.0))
    }
}

/// An instant: RFC 3339 text as the API shows it (UTC, microseconds) or as a client sent
/// it (checked where the argument is read, so a bad one is refused as the field it is).
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum DateTime {
    /// Microseconds since the epoch.
    At(i64),
    /// Text that is not an RFC 3339 timestamp, as sent.
    Unreadable(String),
}

impl DateTime {
    /// The instant `micros` after the epoch.
    pub fn from_micros(micros: i64) -> Self {
        Self::At(micros)
    }

    /// Microseconds since the epoch, or `BAD_USER_INPUT` on `field` for text that is not a
    /// timestamp.
    pub fn micros(&self, field: &'static str) -> ApiResult<i64> {
        match self {
            Self::At(micros) => Ok(*micros),
            Self::Unreadable(_) => Err(ApiError::input(field, "expected an RFC 3339 timestamp")),
        }
    }
}

/// An instant in RFC 3339: served in UTC with microseconds (`2026-11-23T10:04:05.123456Z`);
/// accepted with any offset and fraction (`2026-11-23T11:04:05+01:00`).
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(text) => Ok(match crate::time::parse(&text) {
                Some(micros) => Self::At(micros),
                None => Self::Unreadable(text),
            }),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        match self {
            Self::At(micros) => Value::String(crate::time::format(*micros)),
            Self::Unreadable(text) => Value::String(text.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int64_reads_numbers_and_decimal_strings_in_range() {
        let max = i64::MAX.unsigned_abs();
        for (value, expected) in [
            (Value::from(0u64), Some(0)),
            (Value::from(max), Some(max)),
            (Value::from(max + 1), None),
            (Value::from(-1i64), None),
            (Value::from(1.5f64), None),
            (Value::from("9007199254740993"), Some(9_007_199_254_740_993)),
            (Value::from(max.to_string()), Some(max)),
            (Value::from((max + 1).to_string()), None),
            (Value::from("-1"), None),
            (Value::from("+1"), None),
            (Value::from(" 1"), None),
            (Value::from(""), None),
            (Value::Boolean(true), None),
        ] {
            assert_eq!(
                Int64::parse(value.clone()).ok(),
                expected.map(Int64),
                "{value}"
            );
            assert_eq!(Int64::is_valid(&value), expected.is_some(), "{value}");
        }
        assert_eq!(
            Int64(u64::from(u32::MAX) + 1).to_value(),
            Value::from(4_294_967_296u64)
        );
    }

    #[test]
    fn datetime_serves_the_api_format_and_defers_bad_text_to_its_field() {
        assert_eq!(
            DateTime::from_micros(1_795_000_000_123_456).to_value(),
            Value::from("2026-11-18T11:06:40.123456Z")
        );
        let parsed = DateTime::parse(Value::from("2026-11-18T12:06:40+01:00")).ok();
        assert_eq!(parsed, Some(DateTime::At(1_795_000_000_000_000)));
        let bad = DateTime::parse(Value::from("2026-11-18T10:00:00é0:00"));
        let refused = bad
            .ok()
            .map(|d| d.micros("startsAt").map_err(|e| e.to_string()));
        assert_eq!(
            refused,
            Some(Err(
                "invalid startsAt: expected an RFC 3339 timestamp".into()
            ))
        );
        assert!(DateTime::parse(Value::from(5)).is_err());
        assert!(!DateTime::is_valid(&Value::from(5)));
    }
}
