//! Finding the lunch slot: busy intervals in, the first free hour in 11:30–14:00 UTC out.

use plaza_guest::time::days_from_civil;

/// The lunch window, minutes after midnight UTC.
const WINDOW: (i64, i64) = (11 * 60 + 30, 14 * 60);
/// The slot length in minutes.
const SLOT: i64 = 60;

/// `YYYY-MM-DD` to days since the Unix epoch.
pub fn parse_date(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = date[0..4].parse().ok()?;
    let m: u32 = date[5..7].parse().ok()?;
    let d: u32 = date[8..10].parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // Reject 2026-02-31 and friends: the round trip must give the same date back.
    (plaza_guest::time::civil_from_days(days) == (y, m, d)).then_some(days)
}

/// An RFC 3339 timestamp to minutes since the Unix epoch (UTC); seconds are dropped.
pub fn parse_instant(ts: &str) -> Option<i64> {
    let (date, rest) = ts.split_once(['T', 't', ' '])?;
    let days = parse_date(date)?;
    let hh: i64 = rest.get(0..2)?.parse().ok()?;
    let mm: i64 = rest.get(3..5)?.parse().ok()?;
    if rest.get(2..3)? != ":" || hh > 23 || mm > 59 {
        return None;
    }
    let zone = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == ':' || c == '.');
    let offset = match zone {
        "Z" | "z" => 0,
        z if (z.starts_with('+') || z.starts_with('-')) && z.len() == 6 => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let oh: i64 = z.get(1..3)?.parse().ok()?;
            let om: i64 = z.get(4..6)?.parse().ok()?;
            sign * (oh * 60 + om)
        }
        _ => return None,
    };
    Some(days * 1440 + hh * 60 + mm - offset)
}

/// The first free `SLOT` minutes in the lunch window of `date`, as RFC 3339 (start, end).
pub fn first_free_slot(
    date: &str,
    busy: &[(String, String)],
) -> Result<Option<(String, String)>, String> {
    let day = parse_date(date).ok_or_else(|| format!("bad date {date}"))? * 1440;
    let mut intervals = Vec::with_capacity(busy.len());
    for (start, end) in busy {
        let s =
            parse_instant(start).ok_or_else(|| format!("calendar: bad event start `{start}`"))?;
        let e = parse_instant(end).ok_or_else(|| format!("calendar: bad event end `{end}`"))?;
        intervals.push((s - day, e - day));
    }
    intervals.sort();
    let mut candidate = WINDOW.0;
    for (s, e) in intervals {
        if e <= candidate {
            continue;
        }
        if s - candidate >= SLOT {
            break;
        }
        candidate = candidate.max(e);
    }
    if candidate + SLOT > WINDOW.1 {
        return Ok(None);
    }
    let fmt = |m: i64| format!("{date}T{:02}:{:02}:00Z", m / 60, m % 60);
    Ok(Some((fmt(candidate), fmt(candidate + SLOT))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str, e: &str) -> (String, String) {
        (format!("2026-01-10T{s}:00Z"), format!("2026-01-10T{e}:00Z"))
    }

    #[test]
    fn finds_slots() {
        let d = "2026-01-10";
        assert_eq!(
            first_free_slot(d, &[]).unwrap(),
            Some(("2026-01-10T11:30:00Z".into(), "2026-01-10T12:30:00Z".into()))
        );
        assert_eq!(
            first_free_slot(d, &[ev("12:00", "13:00")]).unwrap(),
            Some(("2026-01-10T13:00:00Z".into(), "2026-01-10T14:00:00Z".into()))
        );
        assert_eq!(
            first_free_slot(d, &[ev("11:00", "12:00"), ev("12:45", "15:00")]).unwrap(),
            None
        );
        assert_eq!(
            first_free_slot(d, &[ev("09:00", "10:00"), ev("11:45", "12:15")]).unwrap(),
            Some(("2026-01-10T12:15:00Z".into(), "2026-01-10T13:15:00Z".into()))
        );
        assert!(parse_date("2026-02-31").is_none());
        assert_eq!(
            parse_instant("2026-01-10T13:00:00+01:00"),
            parse_instant("2026-01-10T12:00:00Z")
        );
    }
}
