//! Exact Kubernetes quantities (`100m`, `1.5`, `2Gi`, `1e3`), as apimachinery parses them.
//!
//! A [`Quantity`] holds its value in nano-units, the finest precision apimachinery keeps, so sums
//! are exact; [`Quantity::milli_ceil`] and [`Quantity::units_ceil`] round up exactly like Go's
//! `MilliValue()` and `Value()`, which the scheduler uses for CPU and for everything else.

use std::fmt;

const NANOS_PER_UNIT: i128 = 1_000_000_000;
const NANOS_PER_MILLI: i128 = 1_000_000;
/// Enough for `8Ei` with nine decimals of precision, and far below `i128::MAX`.
const MAX_NANOS: i128 = 10_i128.pow(30);

/// An exact quantity in nano-units (10⁻⁹).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    nanos: i128,
}

/// Why a quantity string is not a valid Kubernetes quantity.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("quantity {0:?} is empty or has no digits")]
    NoDigits(String),
    #[error("quantity {0:?} has an unknown suffix")]
    BadSuffix(String),
    #[error("quantity {0:?} is too large")]
    TooLarge(String),
}

impl Quantity {
    /// The quantity `units` (e.g. bytes, pods, whole CPUs).
    pub fn from_units(units: i64) -> Quantity {
        Quantity {
            nanos: i128::from(units) * NANOS_PER_UNIT,
        }
    }

    /// The quantity `milli` thousandths (e.g. milli-CPU).
    pub fn from_milli(milli: i64) -> Quantity {
        Quantity {
            nanos: i128::from(milli) * NANOS_PER_MILLI,
        }
    }

    /// Parses `<sign><digits>[.<digits>][<suffix>]` with a binary (`Ki`..`Ei`), decimal
    /// (`n`, `u`, `m`, `k`, `M`..`E`) or exponent (`e3`, `E-2`) suffix. Precision below a nano is
    /// rounded up, as apimachinery does.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        match Quantity::parse_plain(text) {
            Some(quantity) => Ok(quantity),
            None => Quantity::parse_any(text),
        }
    }

    /// The shapes requests and allocatable almost always take (`100m`, `2`, `512Mi`, `1G`): up
    /// to 18 digits and a suffix up to giga, whose value is exact in `i128` without any check.
    /// `None` for every other shape, which [`Quantity::parse_any`] handles.
    fn parse_plain(text: &str) -> Option<Quantity> {
        let bytes = text.as_bytes();
        let digits = bytes
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(bytes.len());
        if digits == 0 || digits > 18 {
            return None;
        }
        let mantissa = bytes[..digits]
            .iter()
            .fold(0_i64, |value, digit| value * 10 + i64::from(digit - b'0'));
        let nanos_per_unit_of_suffix: i128 = match bytes[digits..] {
            [] => NANOS_PER_UNIT,
            [b'n'] => 1,
            [b'u'] => 1_000,
            [b'm'] => NANOS_PER_MILLI,
            [b'k'] => NANOS_PER_UNIT * 1_000,
            [b'M'] => NANOS_PER_UNIT * 1_000_000,
            [b'G'] => NANOS_PER_UNIT * 1_000_000_000,
            [b'K', b'i'] => NANOS_PER_UNIT << 10,
            [b'M', b'i'] => NANOS_PER_UNIT << 20,
            [b'G', b'i'] => NANOS_PER_UNIT << 30,
            _ => return None,
        };
        let nanos = i128::from(mantissa) * nanos_per_unit_of_suffix;
        (nanos <= MAX_NANOS).then_some(Quantity { nanos })
    }

    /// Every form [`Quantity::parse`] accepts.
    fn parse_any(text: &str) -> Result<Quantity, QuantityError> {
        let number_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(number_end);
        let (negative, digits) = match number.as_bytes().first() {
            Some(b'-') => (true, &number[1..]),
            Some(b'+') => (false, &number[1..]),
            _ => (false, number),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = whole.bytes().chain(fraction.bytes());
        if whole.len() + fraction.len() == 0 || !all_digits.clone().all(|b| b.is_ascii_digit()) {
            return Err(QuantityError::NoDigits(text.to_string()));
        }
        let too_large = || QuantityError::TooLarge(text.to_string());
        let mut mantissa: i128 = 0;
        for byte in all_digits {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(byte - b'0')))
                .filter(|m| *m <= MAX_NANOS)
                .ok_or_else(too_large)?;
        }
        let scale =
            Scale::of_suffix(suffix).ok_or_else(|| QuantityError::BadSuffix(text.into()))?;
        // value = mantissa × 10^(exponent − fraction digits) × 1024^binary; nanos = value × 10^9.
        let decimal_exponent = scale.decimal_exponent + 9 - fraction.len() as i64;
        let mut numerator = mantissa;
        for _ in 0..scale.binary_power {
            numerator = numerator.checked_mul(1024).ok_or_else(too_large)?;
        }
        let nanos = if decimal_exponent >= 0 {
            let factor = u32::try_from(decimal_exponent)
                .ok()
                .and_then(|e| 10_i128.checked_pow(e))
                .ok_or_else(too_large)?;
            numerator.checked_mul(factor).ok_or_else(too_large)?
        } else {
            let divisor = u32::try_from(-decimal_exponent)
                .ok()
                .and_then(|e| 10_i128.checked_pow(e));
            match divisor {
                Some(divisor) => ceil_div(numerator, divisor),
                None => i128::from(numerator > 0),
            }
        };
        if nanos > MAX_NANOS {
            return Err(too_large());
        }
        Ok(Quantity {
            nanos: if negative { -nanos } else { nanos },
        })
    }

    /// The value in nano-units.
    pub fn nanos(self) -> i128 {
        self.nanos
    }

    /// Thousandths, rounded up (Go's `MilliValue()`), saturating at the `i64` range.
    pub fn milli_ceil(self) -> i64 {
        saturate(ceil_div(self.nanos, NANOS_PER_MILLI))
    }

    /// Whole units, rounded up (Go's `Value()`), saturating at the `i64` range.
    pub fn units_ceil(self) -> i64 {
        saturate(ceil_div(self.nanos, NANOS_PER_UNIT))
    }

    /// The exact sum, saturating instead of overflowing.
    pub fn saturating_add(self, other: Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_add(other.nanos),
        }
    }
}

impl fmt::Display for Quantity {
    /// A canonical decimal form: `1.5`, `100m`-style values print as `0.1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.nanos < 0 { "-" } else { "" };
        let magnitude = self.nanos.unsigned_abs();
        let whole = magnitude / NANOS_PER_UNIT as u128;
        let fraction = magnitude % NANOS_PER_UNIT as u128;
        if fraction == 0 {
            return write!(f, "{sign}{whole}");
        }
        let digits = format!("{fraction:09}");
        write!(f, "{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// The multiplier a suffix stands for: 10^`decimal_exponent` × 1024^`binary_power`.
struct Scale {
    decimal_exponent: i64,
    binary_power: u32,
}

impl Scale {
    fn of_suffix(suffix: &str) -> Option<Scale> {
        let decimal = |decimal_exponent| {
            Some(Scale {
                decimal_exponent,
                binary_power: 0,
            })
        };
        let binary = |binary_power| {
            Some(Scale {
                decimal_exponent: 0,
                binary_power,
            })
        };
        match suffix {
            "" => decimal(0),
            "n" => decimal(-9),
            "u" => decimal(-6),
            "m" => decimal(-3),
            "k" => decimal(3),
            "M" => decimal(6),
            "G" => decimal(9),
            "T" => decimal(12),
            "P" => decimal(15),
            "E" => decimal(18),
            "Ki" => binary(1),
            "Mi" => binary(2),
            "Gi" => binary(3),
            "Ti" => binary(4),
            "Pi" => binary(5),
            "Ei" => binary(6),
            _ => {
                let exponent = suffix.strip_prefix(['e', 'E'])?;
                let digits = exponent.trim_start_matches(['+', '-']);
                let well_formed = !digits.is_empty()
                    && digits.len() + 1 >= exponent.len()
                    && digits.bytes().all(|b| b.is_ascii_digit());
                if !well_formed {
                    return None;
                }
                decimal(exponent.parse().ok()?)
            }
        }
    }
}

/// Rounds toward positive infinity; in `i64` when both fit, which is much cheaper than `i128`.
fn ceil_div(numerator: i128, divisor: i128) -> i128 {
    if let (Ok(numerator), Ok(divisor)) = (i64::try_from(numerator), i64::try_from(divisor)) {
        let quotient = numerator / divisor;
        let round_up = numerator % divisor > 0;
        return i128::from(quotient) + i128::from(round_up);
    }
    let quotient = numerator / divisor;
    if numerator % divisor > 0 {
        quotient + 1
    } else {
        quotient
    }
}

fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milli(text: &str) -> i64 {
        Quantity::parse(text).expect(text).milli_ceil()
    }

    fn units(text: &str) -> i64 {
        Quantity::parse(text).expect(text).units_ceil()
    }

    #[test]
    fn decimal_cpu_forms() {
        assert_eq!(milli("100m"), 100);
        assert_eq!(milli("1.5"), 1500);
        assert_eq!(milli("0.1"), 100);
        assert_eq!(milli(".5"), 500);
        assert_eq!(milli("2"), 2000);
        assert_eq!(milli("+3"), 3000);
        assert_eq!(milli("250000u"), 250);
    }

    #[test]
    fn sub_milli_cpu_rounds_up_like_milli_value() {
        assert_eq!(milli("100u"), 1);
        assert_eq!(milli("1n"), 1);
        assert_eq!(milli("0.0001"), 1);
    }

    #[test]
    fn binary_and_decimal_memory_forms() {
        assert_eq!(units("2Gi"), 2 * 1024 * 1024 * 1024);
        assert_eq!(units("500Mi"), 500 * 1024 * 1024);
        assert_eq!(units("1.5Gi"), 1_610_612_736);
        assert_eq!(units("1k"), 1000);
        assert_eq!(units("1G"), 1_000_000_000);
        assert_eq!(units("1Ki"), 1024);
        assert_eq!(units("7Ei"), 7 * 1024_i64.pow(6));
        assert_eq!(units("8Ei"), i64::MAX, "2^63 bytes saturates like Value()");
    }

    #[test]
    fn exponent_forms() {
        assert_eq!(units("1e3"), 1000);
        assert_eq!(units("1E3"), 1000);
        assert_eq!(units("12e-1"), 2);
        assert_eq!(milli("12e-1"), 1200);
        assert_eq!(units("1E"), 1_000_000_000_000_000_000);
        assert_eq!(units("5e+2"), 500);
    }

    #[test]
    fn fractional_bytes_round_up_like_value() {
        assert_eq!(units("1m"), 1);
        assert_eq!(units("1.1"), 2);
        assert_eq!(units("0"), 0);
    }

    #[test]
    fn sums_are_exact_before_rounding() {
        let third = Quantity::parse("0.3333335").unwrap();
        let sum = third.saturating_add(third).saturating_add(third);
        assert_eq!(sum.milli_ceil(), 1001);
        assert_eq!(sum.nanos(), 1_000_000_500);
    }

    #[test]
    fn rejects_malformed_quantities() {
        for bad in [
            "", "m", "Ki", "1.2.3", "1 Gi", "1KI", "1K", "1e", "1e1.5", "abc", "1Gib", "--1",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rejects_quantities_beyond_the_exact_range() {
        assert!(matches!(
            Quantity::parse("1e40"),
            Err(QuantityError::TooLarge(_))
        ));
        assert!(matches!(
            Quantity::parse("99999999999999999999999Ei"),
            Err(QuantityError::TooLarge(_))
        ));
    }

    #[test]
    fn the_plain_shapes_parse_like_every_other_shape() {
        let samples = [
            "0",
            "7",
            "100m",
            "1500m",
            "0001m",
            "2",
            "1n",
            "250000u",
            "1k",
            "3M",
            "1G",
            "1Ki",
            "512Mi",
            "64Gi",
            "999999999999Mi",
        ];
        for text in samples {
            let plain = Quantity::parse_plain(text);
            assert_eq!(plain.map(Ok), Some(Quantity::parse_any(text)), "{text}");
        }
        let others = [
            "1.5",
            "100Ti",
            "1e3",
            "+3",
            "-1",
            "1234567890123456789",
            "1K",
            "",
            "999999999999999999G",
        ];
        for text in others {
            assert!(Quantity::parse_plain(text).is_none(), "{text}");
            assert_eq!(Quantity::parse(text), Quantity::parse_any(text), "{text}");
        }
    }

    #[test]
    fn rounding_is_the_same_beyond_the_i64_range() {
        let huge = Quantity::parse("7Ei").unwrap();
        assert!(i64::try_from(huge.nanos()).is_err());
        assert_eq!(huge.units_ceil(), 7 * 1024_i64.pow(6));
        let just_above = Quantity {
            nanos: huge.nanos() + 1,
        };
        assert_eq!(just_above.units_ceil(), 7 * 1024_i64.pow(6) + 1);
        assert_eq!(Quantity { nanos: -1_500_000 }.milli_ceil(), -1);
    }

    #[test]
    fn negative_values_keep_their_sign() {
        assert_eq!(milli("-100m"), -100);
        assert_eq!(units("-1.5"), -1);
    }

    #[test]
    fn tiny_negative_exponents_round_up_to_one_nano() {
        assert_eq!(Quantity::parse("1e-50").unwrap().nanos(), 1);
    }

    #[test]
    fn displays_canonical_decimals() {
        assert_eq!(Quantity::parse("1500m").unwrap().to_string(), "1.5");
        assert_eq!(Quantity::parse("2").unwrap().to_string(), "2");
        assert_eq!(Quantity::parse("-250m").unwrap().to_string(), "-0.25");
        assert_eq!(Quantity::from_milli(5).to_string(), "0.005");
        assert_eq!(Quantity::from_units(3), Quantity::parse("3").unwrap());
    }
}
