//! W3C Trace Context: the `traceparent` a request arrives with (HTTP header
//! or MCP `params._meta.traceparent`), validated, and the slot in which the
//! MCP layer reports one found in a request body to the HTTP layer.
//!
//! ```
//! use warden_core::TraceParent;
//!
//! let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
//! assert_eq!(tp.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert!(tp.sampled());
//! assert!(TraceParent::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
//! ```

use std::fmt;
use std::sync::{Arc, OnceLock};

/// The name of the W3C `traceparent` header (and of the MCP `_meta` key).
pub const TRACEPARENT: &str = "traceparent";

/// A valid W3C `traceparent` (version `00`): a trace id and parent span id,
/// neither all zero, and the trace flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
}

impl TraceParent {
    /// Parses `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`
    /// (lowercase hex, as the W3C recommendation requires). Anything else
    /// — another version, uppercase, all-zero ids, extra fields — is `None`.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim_matches([' ', '\t']);
        let b = value.as_bytes();
        if b.len() != 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        if &b[..2] != b"00" {
            return None;
        }
        let mut trace_id = [0u8; 16];
        let mut parent_id = [0u8; 8];
        let mut flags = [0u8; 1];
        hex_into(&b[3..35], &mut trace_id)?;
        hex_into(&b[36..52], &mut parent_id)?;
        hex_into(&b[53..55], &mut flags)?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            parent_id,
            flags: flags[0],
        })
    }

    /// The 16-byte trace id.
    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    /// The 8-byte id of the caller's span (the parent of ours).
    pub fn parent_id(&self) -> [u8; 8] {
        self.parent_id
    }

    /// The trace flags byte.
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the caller sampled the trace (flag `01`).
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// The trace id as 32 lowercase hex digits (the access log's `trace_id`).
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            hex(&self.trace_id),
            hex(&self.parent_id),
            self.flags
        )
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

fn hex_into(digits: &[u8], out: &mut [u8]) -> Option<()> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(())
}

/// Where the MCP layer reports the trace context a request carried in its
/// body (`params._meta.traceparent` of a `tools/call`), so the HTTP layer
/// that answers the request can log its trace id. The host puts one in the
/// request's extensions when the request had no `traceparent` header; the
/// first context reported wins.
#[derive(Debug, Clone, Default)]
pub struct TraceSlot(Arc<OnceLock<TraceParent>>);

impl TraceSlot {
    /// An empty slot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reports `tp` (ignored when one was reported already).
    pub fn report(&self, tp: TraceParent) {
        let _ = self.0.set(tp);
    }

    /// The context reported, if any.
    pub fn get(&self) -> Option<TraceParent> {
        self.0.get().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn round_trips() {
        let tp = TraceParent::parse(VALID).unwrap();
        assert_eq!(tp.to_string(), VALID);
        assert_eq!(hex(&tp.parent_id()), "00f067aa0ba902b7");
        assert_eq!(tp.flags(), 1);
        let unsampled = TraceParent::parse(&VALID.replace("-01", "-00")).unwrap();
        assert!(!unsampled.sampled());
        assert!(TraceParent::parse(&format!(" {VALID} ")).is_some());
    }

    #[test]
    fn rejects_what_the_recommendation_rejects() {
        for bad in [
            "",
            "00",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        ] {
            assert!(TraceParent::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_first_report_wins() {
        let slot = TraceSlot::new();
        assert!(slot.get().is_none());
        let a = TraceParent::parse(VALID).unwrap();
        slot.clone().report(a);
        slot.report(TraceParent::parse(&VALID.replace("4bf9", "aaaa")).unwrap());
        assert_eq!(slot.get(), Some(a));
    }
}
