//! A company's availability as its site shows it: whether it is open now (its business
//! hours, in its own time zone) and how fast it typically replies. Pure rules: the
//! caller brings the time and the samples.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most intervals a week may have: a few per day with room to spare, and a bound on
/// what every `open_now` walks through.
pub const MAX_INTERVALS: usize = 50;

/// When a company answers: intervals of a week, in a time zone (IANA name). A company
/// without them (`null`) is always open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    pub time_zone: String,
    pub weekly: Vec<Interval>,
}

/// One opening of a week: `day` from `from` to `to` (wall-clock `HH:MM`). `to` before
/// `from` runs past midnight into the next day; `to` may be `24:00` (the day's end).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    pub day: String,
    pub from: String,
    pub to: String,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_MINUTES: u16 = 24 * 60;

/// `mon`..`sun` as 0..6.
fn day_index(day: &str) -> Option<u8> {
    DAYS.iter().position(|d| *d == day).map(|i| i as u8)
}

/// `HH:MM` (two digits each) as minutes of the day; `24:00` only where `end_of_day`.
fn minutes(text: &str, end_of_day: bool) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if end_of_day => Some(DAY_MINUTES),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

impl BusinessHours {
    /// The `business_hours` field (an object; `null` is the caller's "always open"), or
    /// the message shown under it. Every rule is checked here, so a stored value always
    /// evaluates.
    pub fn parse(field: &str, value: &Value) -> Result<Self, String> {
        let shape = || {
            format!(
                "The {field} field must be an object {{time_zone, weekly: [{{day, from, to}}]}}, or null for always open."
            )
        };
        let object = value.as_object().ok_or_else(shape)?;
        if object.keys().any(|k| k != "time_zone" && k != "weekly") {
            return Err(shape());
        }
        let time_zone = object
            .get("time_zone")
            .and_then(Value::as_str)
            .map(str::trim)
            .ok_or_else(|| format!("The {field}.time_zone field is required (an IANA time zone such as Europe/Berlin)."))?;
        if TimeZone::get(time_zone).is_err() {
            return Err(format!(
                "The {field}.time_zone field must be an IANA time zone such as Europe/Berlin."
            ));
        }
        let weekly = object
            .get("weekly")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                format!("The {field}.weekly field must be a list of {{day, from, to}}.")
            })?;
        if weekly.len() > MAX_INTERVALS {
            return Err(format!(
                "The {field}.weekly field may hold at most {MAX_INTERVALS} intervals."
            ));
        }
        let mut intervals = Vec::with_capacity(weekly.len());
        for (i, entry) in weekly.iter().enumerate() {
            let bad = |what: &str| format!("The {field}.weekly entry {i}: {what}");
            let entry = entry
                .as_object()
                .filter(|o| {
                    o.keys()
                        .all(|k| matches!(k.as_str(), "day" | "from" | "to"))
                })
                .ok_or_else(|| bad("must be an object {day, from, to}."))?;
            let text = |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or_default();
            let (day, from, to) = (text("day"), text("from"), text("to"));
            if day_index(day).is_none() {
                return Err(bad("day must be one of mon, tue, wed, thu, fri, sat, sun."));
            }
            let (Some(start), Some(end)) = (minutes(from, false), minutes(to, true)) else {
                return Err(bad(
                    "from and to must be times as HH:MM (00:00 to 23:59; to may be 24:00).",
                ));
            };
            if start == end {
                return Err(bad(
                    "from and to must differ (a whole day is 00:00 to 24:00).",
                ));
            }
            intervals.push(Interval {
                day: day.to_owned(),
                from: from.to_owned(),
                to: to.to_owned(),
            });
        }
        Ok(BusinessHours {
            time_zone: time_zone.to_owned(),
            weekly: intervals,
        })
    }

    /// Whether `now` falls into one of the intervals, read on the wall clock of the
    /// company's zone (so a DST change moves the instants, never the opening hours). An
    /// interval whose `to` is before its `from` ends on the next day. Hours that cannot
    /// be read (never stored: [`BusinessHours::parse`] checks them) count as open, so a
    /// bad value never hides a company.
    pub fn open_at(&self, now: Timestamp) -> bool {
        let Ok(zone) = TimeZone::get(&self.time_zone) else {
            return true;
        };
        let local = now.to_zoned_datetime(zone);
        let today = local.weekday().to_monday_zero_offset() as u8;
        let yesterday = (today + 6) % 7;
        let minute = u16::from(local.hour() as u8) * 60 + u16::from(local.minute() as u8);
        self.weekly.iter().any(|interval| {
            let (Some(day), Some(from), Some(to)) = (
                day_index(&interval.day),
                minutes(&interval.from, false),
                minutes(&interval.to, true),
            ) else {
                return true;
            };
            if from < to {
                day == today && (from..to).contains(&minute)
            } else {
                // Past midnight: the evening part on its day, the morning part the next.
                (day == today && minute >= from) || (day == yesterday && minute < to)
            }
        })
    }
}

/// Whether a company with these hours (`None`: always open) is open at `now_ms` (epoch
/// milliseconds, as `clock::now_millis` gives them).
pub fn open_now(hours: Option<&BusinessHours>, now_ms: i64) -> bool {
    hours.is_none_or(|hours| {
        Timestamp::from_millisecond(now_ms).map_or(true, |now| hours.open_at(now))
    })
}

/// Fewer first responses than this say nothing about a reply time.
pub const MIN_REPLY_SAMPLES: usize = 5;

/// The median of `response_ms` (first responses, milliseconds), rounded up to whole
/// minutes; `None` below [`MIN_REPLY_SAMPLES`]. With an even count, the mean of the two
/// middle ones. A negative sample (clock skew between writers) counts as 0.
pub fn typical_reply_minutes(response_ms: &[i64]) -> Option<u32> {
    if response_ms.len() < MIN_REPLY_SAMPLES {
        return None;
    }
    let mut sorted: Vec<i64> = response_ms.iter().map(|ms| (*ms).max(0)).collect();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    let median_ms = if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        // Halved before adding: no overflow, whatever the samples.
        sorted[mid - 1] / 2 + sorted[mid] / 2 + (sorted[mid - 1] % 2 + sorted[mid] % 2 + 1) / 2
    };
    // Rounded up: a reply within 61 seconds is "within 2 minutes".
    let minutes = median_ms / 60_000 + i64::from(median_ms % 60_000 != 0);
    Some(u32::try_from(minutes).unwrap_or(u32::MAX))
}

/// What `GET /api/companies/{company_id}/availability` answers (no token needed: only
/// what a site's visitors may see).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Availability<'a> {
    pub company: PublicCompany<'a>,
    pub online: bool,
    pub open_now: bool,
    pub typically_replies_within_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicCompany<'a> {
    pub name: &'a str,
}

/// A stored time (RFC 3339) as a person reads it in an email, in `time_zone` (an IANA
/// name; UTC when there is none or it is unknown): `Sat 5 Dec 2026, 15:03 CET`. Text that
/// is not a time is given back as it is.
pub fn readable_time(rfc3339: &str, time_zone: Option<&str>) -> String {
    let Ok(at) = rfc3339.parse::<Timestamp>() else {
        return rfc3339.to_owned();
    };
    let zone = time_zone
        .and_then(|name| TimeZone::get(name).ok())
        .unwrap_or(TimeZone::UTC);
    at.to_zoned_datetime(zone)
        .strftime("%a %-d %b %Y, %H:%M %Z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hours(zone: &str, weekly: Value) -> BusinessHours {
        BusinessHours::parse(
            "business_hours",
            &json!({ "time_zone": zone, "weekly": weekly }),
        )
        .unwrap()
    }

    fn at(rfc3339: &str) -> Timestamp {
        rfc3339.parse().unwrap()
    }

    #[test]
    fn a_day_interval_is_open_inside_and_closed_outside_in_its_zone() {
        let office = hours(
            "Europe/Berlin",
            json!([{"day": "mon", "from": "09:00", "to": "17:00"}]),
        );
        // 2026-01-05 is a Monday; Berlin is UTC+1 in winter.
        assert!(!office.open_at(at("2026-01-05T07:59:00Z")));
        assert!(office.open_at(at("2026-01-05T08:00:00Z")));
        assert!(office.open_at(at("2026-01-05T15:59:00Z")));
        assert!(
            !office.open_at(at("2026-01-05T16:00:00Z")),
            "to is exclusive"
        );
        assert!(!office.open_at(at("2026-01-06T10:00:00Z")), "Tuesday");
    }

    #[test]
    fn an_interval_past_midnight_runs_into_the_next_day() {
        let night = hours(
            "UTC",
            json!([{"day": "fri", "from": "22:00", "to": "02:00"}]),
        );
        // 2026-01-09 is a Friday.
        assert!(!night.open_at(at("2026-01-09T21:59:00Z")));
        assert!(night.open_at(at("2026-01-09T23:30:00Z")));
        assert!(
            night.open_at(at("2026-01-10T01:59:00Z")),
            "Saturday morning"
        );
        assert!(!night.open_at(at("2026-01-10T02:00:00Z")));
        assert!(
            !night.open_at(at("2026-01-10T23:00:00Z")),
            "not Saturday evening"
        );
        // Sunday into Monday wraps around the week.
        let sunday = hours(
            "UTC",
            json!([{"day": "sun", "from": "23:00", "to": "01:00"}]),
        );
        assert!(sunday.open_at(at("2026-01-12T00:30:00Z")), "Monday 00:30");
        assert!(!sunday.open_at(at("2026-01-13T00:30:00Z")), "Tuesday 00:30");
    }

    #[test]
    fn daylight_saving_moves_the_instants_not_the_hours() {
        let office = hours(
            "Europe/Berlin",
            json!([{"day": "mon", "from": "09:00", "to": "17:00"}]),
        );
        // 07:30 UTC on a Monday is 08:30 in winter (closed) but 09:30 in summer (open).
        assert!(!office.open_at(at("2026-03-23T07:30:00Z")), "winter");
        assert!(office.open_at(at("2026-03-30T07:30:00Z")), "summer (CEST)");
        // The night of the change: Sunday 2026-03-29, 02:00 jumps to 03:00.
        let night = hours(
            "Europe/Berlin",
            json!([{"day": "sat", "from": "23:00", "to": "03:30"}]),
        );
        assert!(night.open_at(at("2026-03-29T00:59:00Z")), "01:59 CET");
        assert!(night.open_at(at("2026-03-29T01:15:00Z")), "03:15 CEST");
        assert!(!night.open_at(at("2026-03-29T01:30:00Z")), "03:30 CEST");
    }

    #[test]
    fn a_whole_day_and_no_hours() {
        let all_day = hours(
            "Asia/Tokyo",
            json!([{"day": "wed", "from": "00:00", "to": "24:00"}]),
        );
        // Wednesday 2026-01-07 00:00 and 23:59 in Tokyo (UTC+9).
        assert!(all_day.open_at(at("2026-01-06T15:00:00Z")));
        assert!(all_day.open_at(at("2026-01-07T14:59:00Z")));
        assert!(!all_day.open_at(at("2026-01-07T15:00:00Z")));
        let now_ms = at("2026-01-07T15:00:00Z").as_millisecond();
        assert!(open_now(None, now_ms), "null is always open");
        let closed = hours("UTC", json!([]));
        assert!(!open_now(Some(&closed), now_ms));
    }

    #[test]
    fn bad_hours_are_refused_with_a_message() {
        let parse = |v: Value| BusinessHours::parse("business_hours", &v);
        let one = |day: &str, from: &str, to: &str| {
            parse(json!({"time_zone": "UTC", "weekly": [{"day": day, "from": from, "to": to}]}))
        };
        assert!(parse(json!("9-5")).is_err());
        assert!(parse(json!({"time_zone": "Mars/Olympus", "weekly": []})).is_err());
        assert!(parse(json!({"weekly": []})).is_err());
        assert!(parse(json!({"time_zone": "UTC"})).is_err());
        assert!(parse(json!({"time_zone": "UTC", "weekly": [], "x": 1})).is_err());
        assert!(one("monday", "09:00", "17:00").is_err());
        assert!(one("mon", "9:00", "17:00").is_err());
        assert!(one("mon", "09:00", "17:60").is_err());
        assert!(one("mon", "24:00", "17:00").is_err());
        assert!(one("mon", "09:00", "09:00").is_err());
        assert!(one("mon", "09:00", "24:00").is_ok());
        let many: Vec<Value> = (0..=MAX_INTERVALS)
            .map(|_| json!({"day": "mon", "from": "09:00", "to": "10:00"}))
            .collect();
        assert!(parse(json!({"time_zone": "UTC", "weekly": many})).is_err());
        let message = one("mon", "9", "17").unwrap_err();
        assert!(
            message.contains("business_hours.weekly entry 0"),
            "{message}"
        );
    }

    #[test]
    fn the_reply_time_is_the_median_rounded_up_to_minutes() {
        let minute = 60_000;
        assert_eq!(typical_reply_minutes(&[]), None);
        assert_eq!(typical_reply_minutes(&[minute; 4]), None);
        assert_eq!(
            typical_reply_minutes(&[minute, 3 * minute, 2 * minute, 90 * minute, 4 * minute]),
            Some(3)
        );
        // Even count: the mean of the middle two (3.5 min), rounded up.
        assert_eq!(
            typical_reply_minutes(&[
                minute,
                2 * minute,
                3 * minute,
                4 * minute,
                5 * minute,
                6 * minute
            ]),
            Some(4)
        );
        assert_eq!(
            typical_reply_minutes(&[1, 1, 1, 1, 1]),
            Some(1),
            "seconds are a minute"
        );
        assert_eq!(typical_reply_minutes(&[0, 0, 0, -5, 0]), Some(0));
        assert_eq!(
            typical_reply_minutes(&[i64::MAX; 6]).map(|m| m > 0),
            Some(true)
        );
    }

    #[test]
    fn an_email_shows_a_time_as_people_read_it() {
        let at = "2026-12-05T14:03:27.123Z";
        assert_eq!(readable_time(at, None), "Sat 5 Dec 2026, 14:03 UTC");
        assert_eq!(
            readable_time(at, Some("Europe/Berlin")),
            "Sat 5 Dec 2026, 15:03 CET"
        );
        assert_eq!(
            readable_time(at, Some("Not/AZone")),
            "Sat 5 Dec 2026, 14:03 UTC"
        );
        assert_eq!(readable_time("soon", None), "soon");
    }
}
