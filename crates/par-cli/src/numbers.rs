//! Value parsers for numeric options: the number is checked when it is parsed, and a bad one
//! gets a message that says what was given and what is allowed.
//!
//! Use them with clap's `value_parser`:
//!
//! ```
//! use clap::Parser;
//!
//! #[derive(Parser)]
//! #[command(allow_negative_numbers = true)]
//! struct Args {
//!     /// Time limit in seconds.
//!     #[arg(long, value_parser = par_cli::numbers::seconds)]
//!     timeout: Option<f64>,
//!     /// Noise level.
//!     #[arg(long, default_value_t = 0.5, value_parser = par_cli::numbers::float_in(0.0, 10.0))]
//!     sigma: f64,
//!     /// Positions to test.
//!     #[arg(long, default_value_t = 100, value_parser = par_cli::numbers::count_in(1, 1_000_000))]
//!     limit: usize,
//! }
//!
//! assert!(Args::try_parse_from(["x", "--timeout", "2.5"]).is_ok());
//! let err = Args::try_parse_from(["x", "--timeout", "NaN"]).err().unwrap().to_string();
//! assert!(err.contains("not a finite number"), "{err}");
//! let err = Args::try_parse_from(["x", "--sigma", "-1"]).err().unwrap().to_string();
//! assert!(err.contains("below the minimum 0"), "{err}");
//! let err = Args::try_parse_from(["x", "--limit", "0"]).err().unwrap().to_string();
//! assert!(err.contains("below the minimum 1"), "{err}");
//! ```

/// The longest time limit an option accepts: about 115 days, in seconds.
pub const MAX_SECONDS: f64 = 1e7;

/// Parses a finite number (`NaN`, `inf` and garbage are refused).
pub fn finite(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("`{text}` is not a finite number"))
    }
}

/// A parser of finite numbers in `[min, max]`.
pub fn float_in(
    min: f64,
    max: f64,
) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |text| {
        let v = finite(text)?;
        if v < min {
            Err(format!("`{text}` is below the minimum {min}"))
        } else if v > max {
            Err(format!("`{text}` is above the maximum {max}"))
        } else {
            Ok(v)
        }
    }
}

/// Parses a finite number greater than zero.
pub fn positive(text: &str) -> Result<f64, String> {
    let v = finite(text)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err(format!("`{text}` must be greater than 0"))
    }
}

/// Parses a finite number that is zero or more.
pub fn non_negative(text: &str) -> Result<f64, String> {
    float_in(0.0, f64::MAX)(text)
}

/// Parses a probability or a fraction in `[0, 1]`.
pub fn fraction(text: &str) -> Result<f64, String> {
    float_in(0.0, 1.0)(text)
}

/// Parses a time limit in seconds: finite, greater than 0, at most [`MAX_SECONDS`].
pub fn seconds(text: &str) -> Result<f64, String> {
    let v = positive(text)?;
    if v > MAX_SECONDS {
        Err(format!(
            "`{text}` seconds is above the maximum {MAX_SECONDS:e} (about 115 days)"
        ))
    } else {
        Ok(v)
    }
}

/// A parser of whole numbers in `[min, max]` (a count, a size, a worker number).
pub fn count_in(
    min: usize,
    max: usize,
) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    move |text| {
        let t = text.trim();
        if t.starts_with('-') {
            return Err(format!("`{text}` is below the minimum {min}"));
        }
        let v: usize = t
            .parse()
            .map_err(|_| format!("`{text}` is not a whole number"))?;
        if v < min {
            Err(format!("`{text}` is below the minimum {min}"))
        } else if v > max {
            Err(format!("`{text}` is above the maximum {max}"))
        } else {
            Ok(v)
        }
    }
}

/// Parses a seed: any whole number from 0 to 2^64 - 1.
pub fn seed(text: &str) -> Result<u64, String> {
    text.trim().parse().map_err(|_| {
        format!("`{text}` is not a seed (a whole number from 0 to 18446744073709551615)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_numbers_only() {
        assert_eq!(finite("1.5"), Ok(1.5));
        assert_eq!(finite(" -2 "), Ok(-2.0));
        for bad in ["NaN", "inf", "-inf", "1e400"] {
            assert!(
                finite(bad).unwrap_err().contains("not a finite number"),
                "{bad}"
            );
        }
        assert!(finite("abc").unwrap_err().contains("not a number"));
        assert!(finite("").is_err());
    }

    #[test]
    fn ranges_name_their_limits() {
        let p = float_in(0.5, 2.0);
        assert_eq!(p("0.5"), Ok(0.5));
        assert_eq!(p("2"), Ok(2.0));
        assert_eq!(p("0.1").unwrap_err(), "`0.1` is below the minimum 0.5");
        assert_eq!(p("3").unwrap_err(), "`3` is above the maximum 2");
        assert!(positive("0").unwrap_err().contains("greater than 0"));
        assert!(non_negative("-0.1").is_err());
        assert_eq!(non_negative("0"), Ok(0.0));
        assert!(fraction("1.01").is_err());
        assert!(seconds("-1").is_err());
        assert!(seconds("1e8").unwrap_err().contains("115 days"));
        assert_eq!(seconds("0.25"), Ok(0.25));
    }

    #[test]
    fn counts_are_whole_and_bounded() {
        let c = count_in(1, 100);
        assert_eq!(c("7"), Ok(7));
        assert_eq!(c("0").unwrap_err(), "`0` is below the minimum 1");
        assert_eq!(c("-3").unwrap_err(), "`-3` is below the minimum 1");
        assert_eq!(c("101").unwrap_err(), "`101` is above the maximum 100");
        assert!(c("2.5").unwrap_err().contains("not a whole number"));
        assert!(c("99999999999999999999999").is_err());
        assert_eq!(seed("18446744073709551615"), Ok(u64::MAX));
        assert!(seed("-1").is_err());
    }
}
