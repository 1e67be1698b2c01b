//! Time as the core sees it: UTC, millisecond precision, never read from a clock (every time
//! comes from the caller), and one canonical text form (`2026-11-29T20:00:00.000Z`) written and
//! read without allocating, because every event written or replayed holds several.
//!
//! The ground floor of the core, with `vocab`: it imports nothing else of the crate.
//! Reading a time from text or from a number that may be out of range answers
//! `INVALID_TIMESTAMP`, so those constructors (`Timestamp::from_millis`,
//! `Timestamp::parse_rfc3339`) are in `model`, above the error type.

use core::fmt;

/// A point in time: UTC, millisecond precision, from 1970-01-01T00:00:00.000Z to
/// 9999-12-31T23:59:59.999Z. The core never reads a clock; every time comes from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The latest representable time, 9999-12-31T23:59:59.999Z.
    pub const MAX_MS: i64 = 253_402_300_799_999;
    /// 1970-01-01T00:00:00.000Z: the earliest time, and when a policy's record begins unless
    /// its creation was given a time (the policy options' `created_at`).
    pub const EPOCH: Timestamp = Timestamp(0);
    /// 9999-12-31T23:59:59.999Z, the latest time.
    pub(crate) const LATEST: Timestamp = Timestamp(Self::MAX_MS);

    /// The time `ms` epoch milliseconds name, if in range (`from_millis` words the error).
    #[inline]
    pub(crate) const fn in_range(ms: i64) -> Option<Timestamp> {
        if 0 <= ms && ms <= Self::MAX_MS {
            Some(Timestamp(ms))
        } else {
            None
        }
    }

    /// Epoch milliseconds.
    #[inline]
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Writes the canonical form, always with milliseconds: `2026-11-29T20:00:00.000Z`.
    pub fn write_rfc3339(self, out: &mut impl fmt::Write) -> fmt::Result {
        out.write_str(self.rfc3339().as_str())
    }

    /// The canonical form in a fixed buffer: no allocation and no `core::fmt`, because every
    /// event written or replayed formats several of these (it was a quarter of replay time).
    pub fn rfc3339(self) -> Rfc3339 {
        // In range by construction (0..=MAX_MS), so the year has exactly four digits.
        let days = self.0.div_euclid(86_400_000);
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        let (h, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
        let (mi, rest) = (rest / 60_000, rest % 60_000);
        let (s, ms) = (rest / 1000, rest % 1000);
        let mut b = *b"0000-00-00T00:00:00.000Z";
        // Two digits at a time; every value is in 0..100 here (the year as two halves).
        fn two(b: &mut [u8; 24], at: usize, v: u32) {
            b[at] = b'0' + (v / 10) as u8;
            b[at + 1] = b'0' + (v % 10) as u8;
        }
        let y = y as u32;
        two(&mut b, 0, y / 100);
        two(&mut b, 2, y % 100);
        two(&mut b, 5, m);
        two(&mut b, 8, d);
        two(&mut b, 11, h as u32);
        two(&mut b, 14, mi as u32);
        two(&mut b, 17, s as u32);
        let ms = ms as u32;
        b[20] = b'0' + (ms / 100) as u8;
        two(&mut b, 21, ms % 100);
        Rfc3339(b)
    }

    /// Reads exactly the canonical form (`2026-11-29T20:00:00.000Z`, what [`Timestamp::rfc3339`]
    /// writes) without chrono: the replay fast path. Anything else, including dates that do not
    /// exist, is `None`, and the caller falls back to `Timestamp::parse_rfc3339`. Checkpoints
    /// (which take only this form) use it too, without std: it is far smaller than chrono's parser.
    pub(crate) fn parse_canonical(s: &[u8]) -> Option<Timestamp> {
        let b: &[u8; 24] = s.try_into().ok()?;
        let num = |from: usize, to: usize| -> Option<i64> {
            b[from..to].iter().try_fold(0i64, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
            })
        };
        let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (h, mi, sec, ms) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let days = days_from_civil(y, m, d);
        let t =
            Timestamp::in_range(days * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms)?;
        // Separators, and days past the month's end (which would roll over), are caught here.
        (t.rfc3339().0 == *b).then_some(t)
    }

    /// This time plus `ms` milliseconds, if it stays in range.
    pub fn checked_add_millis(self, ms: i64) -> Option<Timestamp> {
        self.0
            .checked_add(ms)
            .filter(|t| (0..=Self::MAX_MS).contains(t))
            .map(Timestamp)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_rfc3339(f)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.rfc3339().as_str())
    }
}

/// A [`Timestamp`] in its canonical RFC 3339 form (`2026-11-29T20:00:00.000Z`), held inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339([u8; 24]);

impl Rfc3339 {
    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written into the buffer.
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Debug for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A proleptic Gregorian (year, month, day) to days since 1970-01-01; Howard Hinnant's
/// algorithm, the inverse of [`civil_from_days`].
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); Howard Hinnant's
/// algorithm. Written out because formatting is on the record's hot path and must not allocate.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
