//! Calendar dates as cards print them, and today's date for the century rules.

use std::fmt;

/// A calendar date as printed on a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CardDate {
    /// Four digits.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31, as the month allows.
    pub day: u8,
}

impl CardDate {
    /// `DDMMYYYY`, a real calendar date between 1900 and 2100.
    pub fn parse_ddmmyyyy(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != 8 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let day: u8 = text[0..2].parse().ok()?;
        let month: u8 = text[2..4].parse().ok()?;
        let year: u16 = text[4..8].parse().ok()?;
        Self::new(year, month, day)
    }

    /// A date that exists; `None` for 31 February and the like.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        if !(1900..=2100).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days_in_month = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        (day <= days_in_month).then_some(Self { year, month, day })
    }
}

/// `dd/mm/yyyy`, the contract's date format.
impl fmt::Display for CardDate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{:02}/{:02}/{:04}",
            self.day, self.month, self.year
        )
    }
}

impl CardDate {
    /// Today in UTC, from the system clock.
    pub fn today() -> Self {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Self::from_days_since_epoch((seconds / 86_400) as i64)
    }

    /// The civil date `days` after 1970-01-01 (Howard Hinnant's algorithm), clamped to
    /// the years `CardDate` holds.
    pub fn from_days_since_epoch(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let shifted_month = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u8;
        let month = if shifted_month < 10 {
            shifted_month + 3
        } else {
            shifted_month - 9
        } as u8;
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        let year = year.clamp(1900, 2100) as u16;
        Self::new(year, month, day).unwrap_or(Self {
            year,
            month: 1,
            day: 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_since_the_epoch_become_civil_dates() {
        let date = |days| CardDate::from_days_since_epoch(days).to_string();
        assert_eq!(date(0), "01/01/1970");
        assert_eq!(date(11_016), "29/02/2000");
        assert_eq!(date(20_779), "22/11/2026");
        assert_eq!(date(-1), "31/12/1969");
    }
}
