//! Resource quantities: memory (`128Mi`) and CPU (`500m`, `0.5`, `2`), and their limits.

use crate::error::Invalid;

/// Smallest memory limit, in bytes (1 MiB).
pub const MIN_MEMORY_BYTES: u64 = 1 << 20;
/// Largest memory limit, in bytes (4 GiB).
pub const MAX_MEMORY_BYTES: u64 = 4 << 30;
/// Smallest CPU limit, in millicores.
pub const MIN_CPU_MILLIS: u64 = 1;
/// Largest CPU limit, in millicores (4 cores).
pub const MAX_CPU_MILLIS: u64 = 4000;
/// Largest wall-time limit, in milliseconds (15 minutes).
pub const MAX_TIMEOUT_MS: u64 = 900_000;

/// Parses a memory quantity `<n>Ki`, `<n>Mi` or `<n>Gi` into bytes.
pub fn parse_memory(s: &str) -> Result<u64, Invalid> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(digits_end);
    let how = "write a whole number followed by `Ki`, `Mi` or `Gi`, e.g. `128Mi`";
    if digits.is_empty() {
        return Err(Invalid::new(format!("memory `{s}` does not start with a number")).hint(how));
    }
    let shift = match unit {
        "Ki" => 10,
        "Mi" => 20,
        "Gi" => 30,
        "" => {
            return Err(Invalid::new(format!("memory `{s}` has no unit"))
                .hint(format!("add a binary unit, e.g. `{s}Mi`")))
        }
        u if u.starts_with('.') => {
            return Err(Invalid::new(format!("memory `{s}` is not a whole number")).hint(how))
        }
        "K" | "M" | "G" | "k" | "KB" | "MB" | "GB" | "kB" | "Kb" | "Mb" | "Gb" => {
            let first = unit.chars().next().unwrap_or('M').to_ascii_uppercase();
            return Err(Invalid::new(format!(
                "memory `{s}` uses the unit `{unit}`, which is not accepted"
            ))
            .hint(format!("use binary units: `{digits}{first}i`")));
        }
        _ => {
            return Err(
                Invalid::new(format!("memory `{s}` has the unknown unit `{unit}`")).hint(how),
            )
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| Invalid::new(format!("memory `{s}` is too large")))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| Invalid::new(format!("memory `{s}` is too large")))
}

/// Parses a CPU quantity into millicores: `<n>m`, or cores as `<n>` or `<n>.<d>` with up to
/// three decimals.
pub fn parse_cpu(s: &str) -> Result<u64, Invalid> {
    let how = "write millicores such as `500m`, or cores such as `1` or `0.5`";
    let bad = || Invalid::new(format!("CPU `{s}` is not a CPU quantity")).hint(how);
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if let Some(m) = s.strip_suffix('m') {
        if !all_digits(m) {
            return Err(bad());
        }
        return m.parse().map_err(|_| bad());
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if !all_digits(whole) || (s.contains('.') && !all_digits(frac)) {
        return Err(bad());
    }
    if frac.len() > 3 {
        return Err(
            Invalid::new(format!("CPU `{s}` is finer than one millicore"))
                .hint("use at most three decimals, or millicores such as `250m`"),
        );
    }
    let cores: u64 = whole.parse().map_err(|_| bad())?;
    let mut millis_frac = 0u64;
    for (i, d) in frac.bytes().enumerate() {
        millis_frac += u64::from(d - b'0') * 10u64.pow(2 - i as u32);
    }
    cores
        .checked_mul(1000)
        .and_then(|c| c.checked_add(millis_frac))
        .ok_or_else(bad)
}

/// Renders a byte count as the largest exact binary quantity (`134217728` → `128Mi`).
pub fn format_memory(bytes: u64) -> String {
    for (shift, unit) in [(30, "Gi"), (20, "Mi"), (10, "Ki")] {
        if bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    format!("{bytes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory() {
        assert_eq!(parse_memory("128Mi").unwrap(), 128 << 20);
        assert_eq!(parse_memory("4Gi").unwrap(), MAX_MEMORY_BYTES);
        assert_eq!(parse_memory("512Ki").unwrap(), 512 << 10);
        assert_eq!(
            parse_memory("128M").unwrap_err().hint.as_deref(),
            Some("use binary units: `128Mi`")
        );
        assert_eq!(
            parse_memory("128").unwrap_err().hint.as_deref(),
            Some("add a binary unit, e.g. `128Mi`")
        );
        assert!(parse_memory("0.5Gi").is_err());
        assert!(parse_memory("Mi").is_err());
        assert!(parse_memory("99999999999999999999Gi").is_err());
        assert_eq!(format_memory(128 << 20), "128Mi");
    }

    #[test]
    fn cpu() {
        assert_eq!(parse_cpu("500m").unwrap(), 500);
        assert_eq!(parse_cpu("1").unwrap(), 1000);
        assert_eq!(parse_cpu("0.5").unwrap(), 500);
        assert_eq!(parse_cpu("1.25").unwrap(), 1250);
        assert!(parse_cpu("0.0001").is_err());
        assert!(parse_cpu("half").is_err());
        assert!(parse_cpu("m").is_err());
        assert!(parse_cpu("-1").is_err());
        assert!(parse_cpu("1.").is_err());
    }
}
