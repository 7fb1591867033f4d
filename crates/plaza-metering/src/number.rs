//! Exact decimal numbers: reading a JSON number literal into a [`Decimal`] without passing
//! through floating point, converting between units by an exact ratio, and adding without
//! silent rounding.
//!
//! A [`Decimal`] holds a 96-bit integer mantissa and a scale of 0–28 decimal places, so values
//! up to 79228162514264337593543950335 in magnitude and down to 1e-28 are exact. Anything the
//! type cannot hold exactly is an error here, never a rounded result.

use plaza_manifest::units::Ratio;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serializer};

/// The largest mantissa a [`Decimal`] holds (2^96 − 1).
const MAX_MANTISSA: u128 = (1u128 << 96) - 1;
/// The most decimal places a [`Decimal`] holds.
pub const MAX_SCALE: u32 = 28;

/// Why a number could not be represented exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberProblem {
    /// Not a JSON number literal (e.g. `NaN`, `Infinity`, `1.`, `+1`, `0x10`).
    Syntax,
    /// The magnitude exceeds 79228162514264337593543950335.
    OutOfRange,
    /// More significant digits or decimal places than a decimal holds (28 places).
    TooPrecise,
}

/// Reads a JSON number literal (RFC 8259 grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`)
/// into an exact decimal. `0.1` is exactly one tenth, `4.2e1` is `42`, `-0` is `0`. Trailing
/// zeros do not count against precision (`1.000…0` with any number of zeros is `1`).
pub fn parse_json_number(text: &str) -> Result<Decimal, NumberProblem> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let negative = bytes.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &text[int_start..i];
    if int_digits.is_empty() || (int_digits.len() > 1 && int_digits.starts_with('0')) {
        return Err(NumberProblem::Syntax);
    }
    let mut frac_digits = "";
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &text[start..i];
        if frac_digits.is_empty() {
            return Err(NumberProblem::Syntax);
        }
    }
    let mut exponent: i64 = 0;
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        let mut exp_negative = false;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            exp_negative = bytes[i] == b'-';
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            // Saturate: anything beyond a million is out of range (or zero) either way.
            exponent = (exponent * 10 + i64::from(bytes[i] - b'0')).min(1_000_000);
            i += 1;
        }
        if i == start {
            return Err(NumberProblem::Syntax);
        }
        if exp_negative {
            exponent = -exponent;
        }
    }
    if i != bytes.len() {
        return Err(NumberProblem::Syntax);
    }

    // digits × 10^exp, with digits = int ++ frac and exp adjusted for the fraction.
    let mut digits: String = int_digits.chars().chain(frac_digits.chars()).collect();
    let mut exp = exponent - frac_digits.len() as i64;
    let leading = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..leading);
    if digits.is_empty() {
        return Ok(Decimal::ZERO);
    }
    let trimmed = digits.trim_end_matches('0').len();
    exp += (digits.len() - trimmed) as i64;
    digits.truncate(trimmed);

    // Number of digits before the decimal point of the value.
    let int_len = digits.len() as i64 + exp;
    if int_len > 29 {
        return Err(NumberProblem::OutOfRange);
    }
    let (mantissa, scale) = if exp >= 0 {
        let m: u128 = digits.parse().map_err(|_| NumberProblem::OutOfRange)?;
        let m = 10u128
            .checked_pow(exp as u32)
            .and_then(|p| m.checked_mul(p))
            .ok_or(NumberProblem::OutOfRange)?;
        (m, 0u32)
    } else {
        let scale = -exp;
        if digits.len() > 39 {
            return Err(too_precise_or_out_of_range(&digits, int_len));
        }
        let m: u128 = digits.parse().map_err(|_| NumberProblem::OutOfRange)?;
        if scale > i64::from(MAX_SCALE) || m > MAX_MANTISSA {
            return Err(too_precise_or_out_of_range(&digits, int_len));
        }
        (m, scale as u32)
    };
    if mantissa > MAX_MANTISSA {
        return Err(NumberProblem::OutOfRange);
    }
    from_parts(negative, mantissa, scale).ok_or(NumberProblem::OutOfRange)
}

/// Whether a value that does not fit fails on magnitude (its integer part alone does not fit)
/// or on precision.
fn too_precise_or_out_of_range(digits: &str, int_len: i64) -> NumberProblem {
    if int_len <= 0 {
        return NumberProblem::TooPrecise;
    }
    let int_part = &digits[..(int_len as usize).min(digits.len())];
    match int_part.parse::<u128>() {
        Ok(v) if v <= MAX_MANTISSA => NumberProblem::TooPrecise,
        _ => NumberProblem::OutOfRange,
    }
}

fn from_parts(negative: bool, mantissa: u128, scale: u32) -> Option<Decimal> {
    if mantissa > MAX_MANTISSA || scale > MAX_SCALE {
        return None;
    }
    let m = mantissa as i128;
    let d = Decimal::try_from_i128_with_scale(if negative { -m } else { m }, scale).ok()?;
    Some(canonical(d))
}

/// The canonical form of a decimal: trailing fractional zeros removed and no negative zero,
/// so that `42`, `42.0` and `4.20e1` are the same value with the same text.
pub fn canonical(d: Decimal) -> Decimal {
    if d.is_zero() {
        Decimal::ZERO
    } else {
        d.normalize()
    }
}

/// The canonical text of a decimal: plain digits, no exponent, no trailing fractional zeros.
pub fn canonical_text(d: Decimal) -> String {
    canonical(d).to_string()
}

/// Why a unit conversion failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversionProblem {
    /// The exact result is not a decimal with at most 28 places (e.g. 1 ms in minutes is
    /// 1/60000, a repeating decimal).
    Inexact,
    /// The result's magnitude exceeds the decimal range.
    OutOfRange,
}

/// Multiplies `value` by `ratio` exactly. Succeeds only when the product is a decimal that a
/// [`Decimal`] holds without rounding.
pub fn convert_exact(value: Decimal, ratio: Ratio) -> Result<Decimal, ConversionProblem> {
    let value = canonical(value);
    if value.is_zero() {
        return Ok(Decimal::ZERO);
    }
    let negative = value.is_sign_negative();
    let mut m = value.mantissa().unsigned_abs();
    let mut scale = value.scale();
    let num = ratio.num;
    let mut den = ratio.den.max(1);
    // value × num / den = m × num / (den × 10^scale). Cancel what m and den share.
    let g = gcd(m, den);
    m /= g;
    den /= g;
    // A terminating decimal needs a denominator of the form 2^a × 5^b.
    let (mut twos, mut fives) = (0u32, 0u32);
    while den.is_multiple_of(2) {
        den /= 2;
        twos += 1;
    }
    while den.is_multiple_of(5) {
        den /= 5;
        fives += 1;
    }
    if den != 1 {
        return Err(ConversionProblem::Inexact);
    }
    // 1 / (2^a 5^b) = 2^(k-a) 5^(k-b) / 10^k with k = max(a, b).
    let k = twos.max(fives);
    let widen = 2u128
        .checked_pow(k - twos)
        .zip(5u128.checked_pow(k - fives))
        .and_then(|(a, b)| a.checked_mul(b))
        .ok_or(ConversionProblem::OutOfRange)?;
    scale = scale.checked_add(k).ok_or(ConversionProblem::Inexact)?;
    // Cancel factors of ten across the three factors before multiplying, so that an exact
    // result never overflows on the way.
    let mut factors = [m, num, widen];
    'cancel: while scale > 0 {
        for f in factors.iter_mut() {
            if f.is_multiple_of(10) {
                *f /= 10;
                scale -= 1;
                continue 'cancel;
            }
        }
        for i in 0..3 {
            for j in 0..3 {
                if i != j && factors[i].is_multiple_of(2) && factors[j].is_multiple_of(5) {
                    factors[i] /= 2;
                    factors[j] /= 5;
                    scale -= 1;
                    continue 'cancel;
                }
            }
        }
        break;
    }
    let product = factors[0]
        .checked_mul(factors[1])
        .and_then(|p| p.checked_mul(factors[2]))
        .ok_or(ConversionProblem::OutOfRange)?;
    if scale > MAX_SCALE {
        return Err(ConversionProblem::Inexact);
    }
    if product > MAX_MANTISSA {
        return Err(ConversionProblem::OutOfRange);
    }
    from_parts(negative, product, scale).ok_or(ConversionProblem::OutOfRange)
}

/// Adds two decimals exactly; `None` when the exact sum does not fit a [`Decimal`] (where
/// `Decimal`'s own addition would round).
pub fn add_exact(a: Decimal, b: Decimal) -> Option<Decimal> {
    let (a, b) = (canonical(a), canonical(b));
    let scale = a.scale().max(b.scale());
    let widen = |d: Decimal| -> Option<i128> {
        10i128
            .checked_pow(scale - d.scale())
            .and_then(|p| d.mantissa().checked_mul(p))
    };
    let sum = widen(a)?.checked_add(widen(b)?)?;
    if sum.unsigned_abs() > MAX_MANTISSA {
        return None;
    }
    Decimal::try_from_i128_with_scale(sum, scale)
        .ok()
        .map(canonical)
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

/// Serde helpers that write a [`Decimal`] as its canonical text (a JSON string such as
/// `"1.5"`) and read it back exactly, independent of `rust_decimal`'s serde features.
pub mod serde_text {
    use super::*;

    /// Writes the canonical text.
    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&canonical_text(*d))
    }

    /// Reads a string holding a JSON number literal.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let text = String::deserialize(d)?;
        parse_json_number(&text).map_err(|p| {
            serde::de::Error::custom(format!("`{text}` is not an exact decimal: {p:?}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaza_manifest::units::{conversion, lookup};

    fn dec(s: &str) -> Decimal {
        parse_json_number(s).unwrap()
    }

    fn conv(value: &str, from: &str, to: &str) -> Result<String, ConversionProblem> {
        let r = conversion(lookup(from).unwrap(), lookup(to).unwrap()).unwrap();
        convert_exact(dec(value), r).map(canonical_text)
    }

    #[test]
    fn parses_literals_exactly() {
        assert_eq!(canonical_text(dec("0.1")), "0.1");
        assert_eq!(canonical_text(dec("42")), "42");
        assert_eq!(dec("42.0"), dec("42"));
        assert_eq!(canonical_text(dec("42.000")), "42");
        assert_eq!(canonical_text(dec("4.2e1")), "42");
        assert_eq!(canonical_text(dec("4200E-2")), "42");
        assert_eq!(canonical_text(dec("-0")), "0");
        assert_eq!(canonical_text(dec("-0.0e5")), "0");
        assert_eq!(canonical_text(dec("0e-400")), "0");
        assert_eq!(canonical_text(dec("-1.25")), "-1.25");
        assert_eq!(canonical_text(dec("1e28")), "10000000000000000000000000000");
        assert_eq!(
            canonical_text(dec("79228162514264337593543950335")),
            "79228162514264337593543950335"
        );
        assert_eq!(
            canonical_text(dec("1e-28")),
            "0.0000000000000000000000000001"
        );
        // Trailing zeros beyond the 28-place limit are harmless.
        assert_eq!(
            canonical_text(dec("1.000000000000000000000000000000000000000000")),
            "1"
        );
    }

    #[test]
    fn rejects_what_is_not_exact() {
        use NumberProblem::*;
        for s in [
            "NaN",
            "Infinity",
            "-Infinity",
            "",
            "-",
            "1.",
            ".5",
            "+1",
            "01",
            "1e",
            "0x10",
            "1 ",
        ] {
            assert_eq!(parse_json_number(s), Err(Syntax), "{s:?}");
        }
        assert_eq!(parse_json_number("1e400"), Err(OutOfRange));
        assert_eq!(parse_json_number("-1e400"), Err(OutOfRange));
        assert_eq!(
            parse_json_number("79228162514264337593543950336"),
            Err(OutOfRange)
        );
        assert_eq!(parse_json_number("1e29"), Err(OutOfRange));
        assert_eq!(
            parse_json_number("1e99999999999999999999999"),
            Err(OutOfRange)
        );
        assert_eq!(parse_json_number("1e-29"), Err(TooPrecise));
        assert_eq!(parse_json_number("1e-400"), Err(TooPrecise));
        assert_eq!(
            parse_json_number("1.234567890123456789012345678901"),
            Err(TooPrecise)
        );
        assert_eq!(
            parse_json_number("123456789012345678901234567890.5"),
            Err(OutOfRange)
        );
    }

    #[test]
    fn converts_units_exactly() {
        assert_eq!(conv("1500", "ms", "s").unwrap(), "1.5");
        assert_eq!(conv("1", "GiB", "bytes").unwrap(), "1073741824");
        assert_eq!(conv("1", "KB", "bytes").unwrap(), "1000");
        assert_eq!(conv("1", "KiB", "bytes").unwrap(), "1024");
        assert_eq!(conv("1", "KiB", "KB").unwrap(), "1.024");
        assert_eq!(conv("1", "KB", "KiB").unwrap(), "0.9765625");
        assert_eq!(conv("90000", "ms", "min").unwrap(), "1.5");
        assert_eq!(conv("0.1", "s", "ms").unwrap(), "100");
        assert_eq!(conv("-250", "ms", "s").unwrap(), "-0.25");
        assert_eq!(conv("1", "ms", "min"), Err(ConversionProblem::Inexact));
        assert_eq!(conv("1", "s", "h"), Err(ConversionProblem::Inexact));
        assert_eq!(conv("1e-28", "ns", "s"), Err(ConversionProblem::Inexact));
        assert_eq!(
            conv("79228162514264337593543950335", "KiB", "bytes"),
            Err(ConversionProblem::OutOfRange)
        );
        // Large but exact: 5^40 / 10^28 PiB is 1024 × 10^12 bytes. Multiplying first would
        // overflow 128 bits; cancelling factors of ten first does not.
        assert_eq!(
            conv("0.9094947017729282379150390625", "PiB", "bytes").unwrap(),
            "1024000000000000"
        );
    }

    #[test]
    fn adds_without_rounding() {
        assert_eq!(
            canonical_text(add_exact(dec("0.1"), dec("0.2")).unwrap()),
            "0.3"
        );
        assert_eq!(
            canonical_text(add_exact(dec("1.5"), dec("-1.5")).unwrap()),
            "0"
        );
        let max = dec("79228162514264337593543950335");
        assert_eq!(add_exact(max, dec("1")), None);
        assert_eq!(add_exact(max, dec("0.1")), None);
        assert_eq!(
            add_exact(max, dec("-1")),
            Some(dec("79228162514264337593543950334"))
        );
    }

    #[test]
    fn text_round_trip() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct W {
            #[serde(with = "serde_text")]
            v: Decimal,
        }
        let w = W { v: dec("1.50") };
        let s = serde_json::to_string(&w).unwrap();
        assert_eq!(s, r#"{"v":"1.5"}"#);
        assert_eq!(serde_json::from_str::<W>(&s).unwrap(), w);
    }
}
