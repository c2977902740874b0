//! Timestamps as the API shows them: RFC 3339 in UTC with microseconds
//! (`2026-11-23T10:04:05.123456Z`), from and to microseconds since the epoch.

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The instants [`format()`] shows with a four-digit year: 0000-01-01 to 9999-12-31, UTC.
const FOUR_DIGIT_YEARS: std::ops::RangeInclusive<i64> =
    -62_167_219_200_000_000..=253_402_300_799_999_999;

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// (year, month, day) to days since 1970-01-01 (`days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Microseconds since the epoch as RFC 3339 UTC.
pub fn format(micros: i64) -> String {
    Rfc3339(micros).to_string()
}

/// Microseconds since the epoch, shown as RFC 3339 UTC with no allocation.
#[derive(Clone, Copy, Debug)]
pub struct Rfc3339(pub i64);

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = self.0.div_euclid(MICROS_PER_DAY);
        let in_day = self.0.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let secs = in_day / 1_000_000;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            in_day % 1_000_000
        )
    }
}

/// RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`) to microseconds since the epoch.
pub fn parse(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let month = u32::try_from(month).ok().filter(|m| (1..=12).contains(m))?;
    let day = u32::try_from(day).ok().filter(|d| (1..=31).contains(d))?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = text.get(19..)?;
    let mut micros = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (i, c) in fraction[..digits].bytes().take(6).enumerate() {
            micros += i64::from(c - b'0') * 10i64.pow(5 - u32::try_from(i).ok()?);
        }
        rest = &fraction[digits..];
    }
    // Bytes, not `str` slices: a slice of `rest` could cut a multi-byte character.
    let offset_secs = match rest.as_bytes() {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, b: u8| -> Option<i64> {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let (h, m) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let s = h * 3600 + m * 60;
            if *sign == b'-' { -s } else { s }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    if civil_from_days(days) != (year, month, day) {
        return None; // 2026-02-30 and the like
    }
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    let micros = secs.checked_mul(1_000_000)?.checked_add(micros)?;
    // An offset can carry a four-digit year past 0000 or 9999, which `format` cannot show.
    FOUR_DIGIT_YEARS.contains(&micros).then_some(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_is_parsed_or_refused_never_a_panic() {
        // Every cut of strings made of multi-byte characters and the bytes RFC 3339 uses.
        let pieces = [
            "2026-11-18T10:00:00",
            "é",
            "+",
            "-",
            ":",
            ".",
            "Z",
            "0",
            "1",
            "€",
            "😀",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let text = format!("{a}{b}{c}");
                    for end in 0..=text.len() {
                        if let Some(prefix) = text.get(..end) {
                            let _ = parse(prefix);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn timestamps_round_trip_through_rfc3339() {
        assert_eq!(format(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(format(1_795_000_000_123_456), "2026-11-18T11:06:40.123456Z");
        for micros in [0, 1, 951_782_400_000_000, 1_795_000_000_123_456, -1] {
            assert_eq!(parse(&format(micros)), Some(micros), "{micros}");
        }
        assert_eq!(
            parse("2026-11-18T12:06:40+01:00"),
            Some(1_795_000_000_000_000)
        );
        assert_eq!(
            parse("2024-02-29T00:00:00Z").map(format).as_deref(),
            Some("2024-02-29T00:00:00.000000Z")
        );
        for bad in [
            // The review's panic: 'é' straddles the offset's sign and its hours.
            "2026-11-18T10:00:00é0:00",
            "2026-11-18T10:00:00+é:00",
            "2026-11-18T10:00:00+01:é",
            "2026-11-18T10:00:00.é",
            "2026-11-18T10:00:00+24:00",
            "2026-11-18T10:00:00+01:60",
            // Fuzzing (issue 12): four-digit years whose offset carries them out of range.
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2026-11-18T10:00:00++1:00",
            "é026-11-18T10:00:00Z",
            "2026-11-18T10:0é:00Z",
            "99999-11-18T10:00:00Z",
            "2026-11-18T10:00:00\0Z",
            "2026-02-30T00:00:00Z",
            "2026-11-18",
            "2026-11-18T25:00:00Z",
            "2026-11-18T10:00:00",
            "yesterday",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
