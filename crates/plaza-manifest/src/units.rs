//! The canonical unit registry for billing metrics.
//!
//! Every unit belongs to one [`Dimension`] and converts to that dimension's base unit by an
//! exact integer ratio, so that metering can normalise usage without floating point. Decimal
//! (`KB` = 1000 bytes) and binary (`KiB` = 1024 bytes) prefixes are distinct units. Symbols are
//! case-sensitive.

use std::fmt;

/// What a unit measures. Units convert only within one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Dimensionless counts of things (base unit `count`).
    Count,
    /// Durations (base unit `s`).
    Time,
    /// Amounts of data (base unit `bytes`).
    Data,
    /// Memory held over time, as in "GiB-seconds" (base unit `byte-s`).
    DataTime,
}

impl Dimension {
    /// The symbol of the base unit, whose factor is 1/1.
    pub fn base_unit(self) -> &'static str {
        match self {
            Dimension::Count => "count",
            Dimension::Time => "s",
            Dimension::Data => "bytes",
            Dimension::DataTime => "byte-s",
        }
    }

    /// Lowercase name for documentation and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Count => "count",
            Dimension::Time => "time",
            Dimension::Data => "data",
            Dimension::DataTime => "data-time",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exact, positive rational number `num / den`, always in lowest terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ratio {
    /// Numerator.
    pub num: u128,
    /// Denominator (never 0).
    pub den: u128,
}

impl Ratio {
    /// Builds a ratio in lowest terms. Panics if `den` is 0.
    pub const fn new(num: u128, den: u128) -> Ratio {
        assert!(den != 0, "denominator must not be zero");
        let g = gcd(num, den);
        Ratio {
            num: num / g,
            den: den / g,
        }
    }

    /// Multiplies `value` by this ratio, returning `None` if the result is not a whole number
    /// or overflows.
    pub fn apply_exact(self, value: u128) -> Option<u128> {
        let product = value.checked_mul(self.num)?;
        (product % self.den == 0).then(|| product / self.den)
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

const fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    if a == 0 {
        1
    } else {
        a
    }
}

/// One unit of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    /// The symbol written in manifests and usage events, e.g. `MiB`.
    pub symbol: &'static str,
    /// What the symbol means, e.g. "mebibyte (2^20 bytes)".
    pub name: &'static str,
    /// What it measures.
    pub dimension: Dimension,
    /// How many base units one of this unit is, exactly.
    pub factor: Ratio,
}

const fn unit(
    symbol: &'static str,
    name: &'static str,
    dimension: Dimension,
    num: u128,
    den: u128,
) -> Unit {
    Unit {
        symbol,
        name,
        dimension,
        factor: Ratio::new(num, den),
    }
}

const KIB: u128 = 1024;
const GIB: u128 = 1024 * 1024 * 1024;

/// Every unit Plaza knows, grouped by dimension.
pub const UNITS: &[Unit] = &[
    unit("count", "a count of things", Dimension::Count, 1, 1),
    unit("requests", "HTTP or RPC requests", Dimension::Count, 1, 1),
    unit(
        "invocations",
        "function or handler invocations",
        Dimension::Count,
        1,
        1,
    ),
    unit(
        "events",
        "events processed or emitted",
        Dimension::Count,
        1,
        1,
    ),
    unit(
        "messages",
        "messages sent or received",
        Dimension::Count,
        1,
        1,
    ),
    unit(
        "users",
        "users (e.g. monthly active users)",
        Dimension::Count,
        1,
        1,
    ),
    unit("seats", "licensed seats", Dimension::Count, 1, 1),
    unit(
        "thousand",
        "thousands of things (1000 count)",
        Dimension::Count,
        1000,
        1,
    ),
    unit(
        "million",
        "millions of things (1000000 count)",
        Dimension::Count,
        1_000_000,
        1,
    ),
    unit("ns", "nanosecond", Dimension::Time, 1, 1_000_000_000),
    unit("us", "microsecond", Dimension::Time, 1, 1_000_000),
    unit("ms", "millisecond", Dimension::Time, 1, 1000),
    unit("s", "second", Dimension::Time, 1, 1),
    unit("min", "minute (60 s)", Dimension::Time, 60, 1),
    unit("h", "hour (3600 s)", Dimension::Time, 3600, 1),
    unit("d", "day (86400 s)", Dimension::Time, 86_400, 1),
    unit("bytes", "byte", Dimension::Data, 1, 1),
    unit("KB", "kilobyte (10^3 bytes)", Dimension::Data, 1000, 1),
    unit("MB", "megabyte (10^6 bytes)", Dimension::Data, 1_000_000, 1),
    unit(
        "GB",
        "gigabyte (10^9 bytes)",
        Dimension::Data,
        1_000_000_000,
        1,
    ),
    unit(
        "TB",
        "terabyte (10^12 bytes)",
        Dimension::Data,
        1_000_000_000_000,
        1,
    ),
    unit(
        "PB",
        "petabyte (10^15 bytes)",
        Dimension::Data,
        1_000_000_000_000_000,
        1,
    ),
    unit("KiB", "kibibyte (2^10 bytes)", Dimension::Data, KIB, 1),
    unit(
        "MiB",
        "mebibyte (2^20 bytes)",
        Dimension::Data,
        KIB * KIB,
        1,
    ),
    unit("GiB", "gibibyte (2^30 bytes)", Dimension::Data, GIB, 1),
    unit(
        "TiB",
        "tebibyte (2^40 bytes)",
        Dimension::Data,
        GIB * KIB,
        1,
    ),
    unit(
        "PiB",
        "pebibyte (2^50 bytes)",
        Dimension::Data,
        GIB * KIB * KIB,
        1,
    ),
    unit(
        "byte-s",
        "byte held for one second",
        Dimension::DataTime,
        1,
        1,
    ),
    unit(
        "MiB-s",
        "mebibyte held for one second",
        Dimension::DataTime,
        KIB * KIB,
        1,
    ),
    unit(
        "GiB-s",
        "gibibyte held for one second",
        Dimension::DataTime,
        GIB,
        1,
    ),
    unit(
        "GiB-h",
        "gibibyte held for one hour",
        Dimension::DataTime,
        GIB * 3600,
        1,
    ),
    unit(
        "GB-s",
        "gigabyte held for one second",
        Dimension::DataTime,
        1_000_000_000,
        1,
    ),
    unit(
        "GB-h",
        "gigabyte held for one hour",
        Dimension::DataTime,
        3_600_000_000_000,
        1,
    ),
];

/// Looks a unit up by its exact (case-sensitive) symbol.
pub fn lookup(symbol: &str) -> Option<&'static Unit> {
    UNITS.iter().find(|u| u.symbol == symbol)
}

/// The exact factor that converts a value in `from` into a value in `to`, or `None` when the
/// units measure different dimensions.
pub fn conversion(from: &Unit, to: &Unit) -> Option<Ratio> {
    if from.dimension != to.dimension {
        return None;
    }
    // from -> base: * f.num / f.den ; base -> to: * t.den / t.num
    let num = from.factor.num.checked_mul(to.factor.den)?;
    let den = from.factor.den.checked_mul(to.factor.num)?;
    Some(Ratio::new(num, den))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_unique_and_bases_exist() {
        for (i, u) in UNITS.iter().enumerate() {
            assert!(
                UNITS[i + 1..].iter().all(|v| v.symbol != u.symbol),
                "{}",
                u.symbol
            );
            let base = lookup(u.dimension.base_unit()).expect("base unit registered");
            assert_eq!(base.factor, Ratio::new(1, 1));
            assert_eq!(base.dimension, u.dimension);
        }
    }

    #[test]
    fn converts_exactly() {
        let ms = lookup("ms").unwrap();
        let h = lookup("h").unwrap();
        let r = conversion(h, ms).unwrap();
        assert_eq!(
            r,
            Ratio {
                num: 3_600_000,
                den: 1
            }
        );
        assert_eq!(conversion(ms, h).unwrap().apply_exact(7_200_000), Some(2));
        assert_eq!(conversion(ms, h).unwrap().apply_exact(1), None);
        let kib = lookup("KiB").unwrap();
        let kb = lookup("KB").unwrap();
        assert_eq!(conversion(kib, kb).unwrap(), Ratio { num: 128, den: 125 });
        assert_eq!(conversion(kb, ms), None);
        assert_eq!(
            conversion(lookup("GiB-h").unwrap(), lookup("GiB-s").unwrap())
                .unwrap()
                .num,
            3600
        );
    }

    #[test]
    fn case_sensitive() {
        assert!(lookup("KB").is_some());
        assert!(lookup("kb").is_none());
        assert!(lookup("Mib").is_none());
    }
}
