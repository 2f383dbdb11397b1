//! When a space's agenda is posted (`/settings agenda weekly monday 09:00`, `daily 08:00`): the
//! schedule as typed and as stored, and the period a post covers. Pure: no database, no clock.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// How often the agenda is posted, at a wall-clock time in the space's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agenda {
    Daily(NaiveTime),
    Weekly(Weekday, NaiveTime),
}

pub const EXAMPLE: &str = "/settings agenda weekly monday 09:00";

impl Agenda {
    /// "weekly monday 09:00", "weekly mon 9:00", "daily 08:00"; Err says what is wrong.
    pub fn parse(text: &str) -> Result<Agenda, String> {
        let words: Vec<String> = text
            .split_whitespace()
            .take(4)
            .map(str::to_lowercase)
            .collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["daily", time] => Ok(Agenda::Daily(time_of(time)?)),
            ["weekly", day, time] => Ok(Agenda::Weekly(day_of(day)?, time_of(time)?)),
            ["weekly", ..] => Err("weekly takes a day and a time: weekly monday 09:00".into()),
            ["daily", ..] => Err("daily takes a time: daily 08:00".into()),
            _ => Err("an agenda is weekly <day> <time>, daily <time>, or off".into()),
        }
    }

    /// As stored, and read back by `parse`: "weekly mon 09:00", "daily 08:00".
    pub fn stored(&self) -> String {
        match self {
            Agenda::Daily(t) => format!("daily {}", t.format("%H:%M")),
            Agenda::Weekly(d, t) => format!("weekly {} {}", short(*d), t.format("%H:%M")),
        }
    }

    /// How long a period is, nominally (a day or a week; a clock change makes one an hour
    /// longer or shorter — `next_post` knows).
    pub fn length(&self) -> Duration {
        match self {
            Agenda::Daily(_) => Duration::days(1),
            Agenda::Weekly(..) => Duration::weeks(1),
        }
    }

    /// The first post time after `after`, in `tz`: where the period that starts at `after`
    /// ends, so that consecutive posts cover time without a gap or an overlap.
    pub fn next_post(&self, after: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let day = after.with_timezone(&tz).date_naive();
        (0..=9)
            .filter_map(|ahead| day.checked_add_signed(Duration::days(ahead)))
            .filter(|d| self.posts_on(*d))
            .filter_map(|d| at(d, self.time(), tz))
            .find(|t| *t > after)
            .unwrap_or(after + self.length())
    }

    /// The latest post time at or before `now`, in the space's zone `tz` (a time the clocks
    /// skip that day is taken an hour later).
    pub fn last_post(&self, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let today = now.with_timezone(&tz).date_naive();
        // Eight days back covers a week and a change of clocks.
        (0..=8)
            .filter_map(|back| today.checked_sub_signed(Duration::days(back)))
            .filter(|d| self.posts_on(*d))
            .filter_map(|d| at(d, self.time(), tz))
            .find(|t| *t <= now)
            .unwrap_or(now)
    }

    fn posts_on(&self, day: NaiveDate) -> bool {
        match self {
            Agenda::Daily(_) => true,
            Agenda::Weekly(d, _) => day.weekday() == *d,
        }
    }

    fn time(&self) -> NaiveTime {
        match self {
            Agenda::Daily(t) | Agenda::Weekly(_, t) => *t,
        }
    }
}

/// `day` at `time` in `tz`, an hour later if the clocks skip it.
fn at(day: NaiveDate, time: NaiveTime, tz: Tz) -> Option<DateTime<Utc>> {
    let local = day.and_time(time);
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
}

fn time_of(word: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(word, "%H:%M")
        .map_err(|_| format!("“{}” is not a time like 09:00", shorten(word)))
}

fn day_of(word: &str) -> Result<Weekday, String> {
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    days.into_iter()
        .find(|d| {
            let full = full(*d);
            word.len() >= 3 && full.starts_with(word)
        })
        .ok_or_else(|| format!("“{}” is not a day like monday", shorten(word)))
}

fn full(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

fn short(d: Weekday) -> &'static str {
    &full(d)[..3]
}

fn shorten(word: &str) -> String {
    word.chars().take(30).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn schedules_read_as_people_write_them_and_are_stored_so_they_read_back() {
        let zurich: Tz = "Europe/Zurich".parse().unwrap();
        let a = Agenda::parse("Weekly Monday 09:00").unwrap();
        assert_eq!(a.stored(), "weekly mon 09:00");
        assert_eq!(Agenda::parse(&a.stored()).unwrap(), a);
        assert_eq!(Agenda::parse("daily 8:05").unwrap().stored(), "daily 08:05");
        // Wednesday 2 Dec 2026 12:00 UTC: the last Monday 09:00 in Zurich is 30 Nov 08:00 UTC.
        assert_eq!(
            a.last_post(utc("2026-12-02T12:00:00Z"), zurich),
            utc("2026-11-30T08:00:00Z")
        );
        // A Monday morning before nine is still last week's.
        assert_eq!(
            a.last_post(utc("2026-11-30T07:59:00Z"), zurich),
            utc("2026-11-23T08:00:00Z")
        );
        // Summer time: 09:00 in Zurich is 07:00 UTC.
        assert_eq!(
            a.last_post(utc("2027-04-06T12:00:00Z"), zurich),
            utc("2027-04-05T07:00:00Z")
        );
        // A time the clocks skip (02:30 on 28 March 2027 in Zurich) is taken an hour later.
        let d = Agenda::parse("daily 02:30").unwrap();
        assert_eq!(
            d.last_post(utc("2027-03-28T12:00:00Z"), zurich),
            utc("2027-03-28T01:30:00Z")
        );
        for bad in [
            "weekly",
            "weekly funday 09:00",
            "daily 25:00",
            "monthly 1 09:00",
            "",
        ] {
            assert!(Agenda::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_text_is_read_or_refused_never_a_panic(text in "\\PC{0,60}") {
            let _ = Agenda::parse(&text);
        }

        #[test]
        fn the_last_post_is_never_after_now_nor_a_period_and_a_day_before(
            secs in 0i64..4_000_000_000,
            weekly in any::<bool>(),
            day in 0u32..7,
            minute in 0u32..1440,
        ) {
            let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap();
            let a = if weekly {
                Agenda::Weekly(Weekday::try_from(day as u8).unwrap(), time)
            } else {
                Agenda::Daily(time)
            };
            let now = DateTime::from_timestamp(secs, 0).unwrap();
            for zone in ["Europe/Zurich", "America/New_York", "Pacific/Apia", "UTC"] {
                let tz: Tz = zone.parse().unwrap();
                let last = a.last_post(now, tz);
                prop_assert!(last <= now);
                prop_assert!(now - last <= a.length() + Duration::days(1));
                let next = a.next_post(last, tz);
                prop_assert!(next > last && next > now - Duration::hours(2));
                prop_assert!(next - last <= a.length() + Duration::days(1));
            }
        }
    }
}
