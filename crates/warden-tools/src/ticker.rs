//! Ticker validation and normalisation, before anything goes upstream.

use std::fmt;

use warden_core::ToolError;

use crate::args::shorten;

/// Longest symbol (or part after `CRYPTO:` / `FOREX:`).
const MAX_LEN: usize = 10;

/// A validated, upper-cased ticker: `AAPL`, `BRK.B`, `CRYPTO:BTC`, `FOREX:EUR`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ticker(String);

impl Ticker {
    /// Trims and upper-cases `raw`, then checks it is `[A-Z0-9.-]{1,10}` or
    /// `CRYPTO:`/`FOREX:` followed by `[A-Z0-9]{1,10}` (prefix case-insensitive).
    pub fn parse(raw: &str) -> Result<Self, ToolError> {
        let upper = raw.trim().to_ascii_uppercase();
        if upper.is_empty() {
            return Err(ToolError::InvalidParams(
                "`ticker` must not be empty (e.g. AAPL, BRK.B, CRYPTO:BTC, FOREX:EUR)".into(),
            ));
        }
        let valid = match upper.split_once(':') {
            Some((prefix, symbol)) => {
                matches!(prefix, "CRYPTO" | "FOREX")
                    && is_symbol(symbol, |c| c.is_ascii_uppercase() || c.is_ascii_digit())
            }
            None => is_symbol(&upper, |c| {
                c.is_ascii_uppercase() || c.is_ascii_digit() || c == '.' || c == '-'
            }),
        };
        if valid {
            Ok(Ticker(upper))
        } else {
            Err(ToolError::InvalidParams(format!(
                "`ticker` {:?} is not a valid symbol: use 1-10 letters, digits, '.' or '-' \
                 (e.g. AAPL, BRK.B), or CRYPTO:XXX / FOREX:XXX",
                shorten(raw)
            )))
        }
    }

    /// The normalised symbol.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_symbol(s: &str, allowed: impl Fn(char) -> bool) -> bool {
    (1..=MAX_LEN).contains(&s.len()) && s.chars().all(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        for (raw, want) in [
            ("AAPL", "AAPL"),
            (" aapl ", "AAPL"),
            ("brk.b", "BRK.B"),
            ("BF-B", "BF-B"),
            ("1234567890", "1234567890"),
            ("crypto:btc", "CRYPTO:BTC"),
            ("Forex:Eur", "FOREX:EUR"),
            ("FOREX:ABCDEFGHIJ", "FOREX:ABCDEFGHIJ"),
        ] {
            assert_eq!(Ticker::parse(raw).unwrap().as_str(), want, "{raw}");
        }
    }

    #[test]
    fn rejects_bad_symbols() {
        for raw in [
            "",
            "   ",
            "aapl$",
            "TOOLONGTICKER1",
            "FOREX:",
            "CRYPTO:BT.C",
            "STOCK:AAPL",
            ":AAPL",
            "FOREX:EUR:USD",
            "FOREX:ABCDEFGHIJK",
            "AA PL",
            "ÄAPL",
            "aapl\n\t$",
        ] {
            let err = Ticker::parse(raw).unwrap_err();
            assert!(
                matches!(err, ToolError::InvalidParams(ref m) if m.contains("ticker")),
                "{raw}"
            );
        }
    }
}
