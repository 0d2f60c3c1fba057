//! Calendar dates as the spec writes them (`YYYY-MM-DD`, birth dates with `XX` for an
//! unknown month or day) and the calendar arithmetic the rules need.
//!
//! Every date in a payload is untrusted, so the arithmetic here is checked: it returns
//! `None` instead of panicking, and [`EARLIEST`]..=[`LATEST`] is the range of payload
//! dates the terminal accepts at all (anything outside is `MALFORMED_PAYLOAD`).

use time::macros::date;

/// Kazakhstan time, UTC+5: the spec's checkpoint date and the visa's day boundaries.
pub const KZ_OFFSET: time::UtcOffset = match time::UtcOffset::from_hms(5, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("UTC+5 is a valid offset"),
};
use time::{Date, Month};

/// The first payload date accepted: the Gregorian calendar on travel documents has no
/// year 0000, so a date in it is impossible rather than merely old.
pub const EARLIEST: Date = date!(0001 - 01 - 01);
/// The last payload date accepted: the last day whose "3 calendar months later"
/// (the passport-validity rule of spec §4) is still a date the calendar arithmetic can
/// carry (year 9999 is the `time` crate's limit). A later `vu` could never be checked.
pub const LATEST: Date = date!(9999 - 09 - 30);

/// Whether `d` is within the accepted payload range [`EARLIEST`]..=[`LATEST`].
pub fn in_range(d: Date) -> bool {
    (EARLIEST..=LATEST).contains(&d)
}

/// Parses a strict `YYYY-MM-DD` calendar date; impossible dates (31 Nov) are `None`.
pub fn parse_iso(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    // At most four digits, so the conversions below cannot truncate.
    let y = i32::try_from(num(0..4)?).ok()?;
    let m = Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    Date::from_calendar_date(y, m, u8::try_from(num(8..10)?).ok()?).ok()
}

/// `date` plus `months` calendar months, clamped to the end of a shorter month
/// (30 Nov + 3 months = 28 or 29 Feb). `None` when the result is beyond the calendar
/// the `time` crate can carry (after year 9999).
pub fn add_months(date: Date, months: u32) -> Option<Date> {
    let total =
        i64::from(date.year()) * 12 + (i64::from(u8::from(date.month())) - 1) + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, date.day().min(last)).ok()
}

/// A date of birth whose month or day may be unknown (ICAO 9303 `<<`, spec `XX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialDate {
    pub year: i32,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl PartialDate {
    /// `YYYY-MM-DD`, `YYYY-MM-XX` or `YYYY-XX-XX`; a known day needs a known month and
    /// known parts must form a possible date.
    pub fn parse_iso(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year: i32 = s[0..4]
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s[0..4].parse().ok())??;
        let part = |p: &str| -> Option<Option<u8>> {
            match p {
                "XX" => Some(None),
                _ if p.bytes().all(|c| c.is_ascii_digit()) => Some(Some(p.parse().ok()?)),
                _ => None,
            }
        };
        let month = part(s.get(5..7)?)?;
        let day = part(s.get(8..10)?)?;
        let d = PartialDate { year, month, day };
        d.is_possible().then_some(d)
    }

    pub fn is_possible(&self) -> bool {
        match (self.month, self.day) {
            (None, None) => true,
            (None, Some(_)) => false,
            (Some(m), None) => (1..=12).contains(&m),
            (Some(m), Some(d)) => Month::try_from(m)
                .ok()
                .and_then(|m| Date::from_calendar_date(self.year, m, d).ok())
                .is_some(),
        }
    }

    /// Whether the earliest day this date can denote lies within
    /// [`EARLIEST`]..=[`LATEST`], the range of payload dates the terminal accepts.
    pub fn in_range(&self) -> bool {
        Month::try_from(self.month.unwrap_or(1))
            .ok()
            .and_then(|m| Date::from_calendar_date(self.year, m, self.day.unwrap_or(1)).ok())
            .is_some_and(in_range)
    }

    pub fn to_iso(&self) -> String {
        let two = |v: Option<u8>| v.map_or("XX".to_string(), |v| format!("{v:02}"));
        format!("{:04}-{}-{}", self.year, two(self.month), two(self.day))
    }
}

impl std::fmt::Display for PartialDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_iso())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn strict_iso() {
        assert_eq!(parse_iso("2026-02-28"), Some(date!(2026 - 02 - 28)));
        assert_eq!(parse_iso("2026-11-31"), None);
        assert_eq!(parse_iso("2026-2-28"), None);
        assert_eq!(parse_iso("+026-02-28"), None);
    }

    #[test]
    fn calendar_months() {
        assert_eq!(
            add_months(date!(2026 - 11 - 30), 3),
            Some(date!(2027 - 02 - 28))
        );
        assert_eq!(
            add_months(date!(2027 - 11 - 30), 3),
            Some(date!(2028 - 02 - 29))
        );
        assert_eq!(
            add_months(date!(2026 - 01 - 31), 1),
            Some(date!(2026 - 02 - 28))
        );
        assert_eq!(
            add_months(date!(2026 - 10 - 15), 3),
            Some(date!(2027 - 01 - 15))
        );
    }

    #[test]
    fn add_months_past_year_9999_is_none_not_a_panic() {
        assert_eq!(add_months(date!(9999 - 12 - 31), 3), None);
        assert_eq!(add_months(date!(9999 - 10 - 01), 3), None);
        assert_eq!(add_months(Date::MAX, u32::MAX), None);
        assert_eq!(add_months(Date::MIN, 0), Some(Date::MIN));
    }

    #[test]
    fn latest_is_the_last_day_the_three_month_rule_can_carry() {
        assert_eq!(add_months(LATEST, 3), Some(date!(9999 - 12 - 30)));
        assert_eq!(add_months(LATEST.next_day().unwrap(), 3), None);
        assert!(in_range(LATEST) && in_range(EARLIEST));
        assert!(!in_range(date!(9999 - 12 - 31)));
        assert!(!in_range(date!(0000 - 12 - 31)));
    }

    #[test]
    fn partial_dates() {
        let d = PartialDate::parse_iso("1974-XX-XX").unwrap();
        assert_eq!((d.month, d.day), (None, None));
        assert_eq!(d.to_iso(), "1974-XX-XX");
        assert!(PartialDate::parse_iso("1974-XX-12").is_none());
        assert!(PartialDate::parse_iso("1974-02-30").is_none());
        assert_eq!(
            PartialDate::parse_iso("1974-08-XX").unwrap().to_iso(),
            "1974-08-XX"
        );
    }
}
