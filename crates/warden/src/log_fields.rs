//! [`PlainFields`]: the text log format's field formatter, without the cost
//! of colour when there is no colour.
//!
//! `tracing-subscriber`'s [`DefaultFields`] wraps every field name and `=` in
//! an ANSI style, even when colour is off (the style is then empty, but each
//! wrapper is still formatted): about a third of the cost of an access log
//! line. [`PlainFields`] writes `name=value` directly when the writer has no
//! colour, and leaves everything else to [`DefaultFields`]: the `message`
//! field, `r#` names, `log.` fields, errors, and any writer with colour. The
//! output is the same byte for byte (the tests below compare the two).

use std::fmt;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultFields, DefaultVisitor, Writer};
use tracing_subscriber::fmt::FormatFields;

/// The text format's field formatter (see the [module docs](self)).
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainFields;

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        if writer.has_ansi_escapes() || !writer.sanitizes_ansi_escapes() {
            return DefaultFields::new().format_fields(writer, fields);
        }
        let mut visitor = PlainVisitor {
            writer,
            is_empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// [`DefaultVisitor`] for a writer without colour.
struct PlainVisitor<'a> {
    writer: Writer<'a>,
    /// Nothing written yet (the first field gets no leading space).
    is_empty: bool,
    result: fmt::Result,
}

impl PlainVisitor<'_> {
    /// Whether [`DefaultVisitor`] treats the field specially.
    fn special(name: &str) -> bool {
        name == "message" || name.starts_with("r#") || name.starts_with("log.")
    }

    /// Formats field `name` with [`DefaultVisitor`] (into a buffer, to learn
    /// whether it wrote anything) and appends what it wrote. A field it
    /// formats counts as written even when it wrote nothing (an empty
    /// message: the next field still gets its space); one it skips (`log.`
    /// fields) does not.
    fn delegate(&mut self, name: &str, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        let mut buf = String::new();
        let mut visitor = DefaultVisitor::new(Writer::new(&mut buf), self.is_empty);
        record(&mut visitor);
        self.result = visitor.finish();
        if self.result.is_err() {
            return;
        }
        self.is_empty = self.is_empty && buf.is_empty() && name.starts_with("log.");
        self.result = self.writer.write_str(&buf);
    }
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        if field.name() == "message" {
            self.delegate(field.name(), |v| v.record_str(field, value));
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.result.is_err() {
            return;
        }
        self.delegate(field.name(), |v| v.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        let name = field.name();
        if Self::special(name) {
            self.delegate(name, |v| v.record_debug(field, value));
            return;
        }
        if self.is_empty {
            self.is_empty = false;
        } else if let Err(e) = self.writer.write_char(' ') {
            self.result = Err(e);
            return;
        }
        self.result = write!(self.writer, "{name}={value:?}");
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use proptest::prelude::*;
    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// What `events` log through the text format with `fields`, colour off.
    fn text<N>(fields: N, events: &dyn Fn()) -> String
    where
        N: for<'w> FormatFields<'w> + Send + Sync + 'static,
    {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(capture.clone())
            .with_ansi(false)
            .without_time()
            .with_max_level(tracing::Level::TRACE)
            .fmt_fields(fields)
            .finish();
        tracing::subscriber::with_default(subscriber, events);
        let bytes = capture.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn same(events: &dyn Fn()) -> String {
        let default = text(DefaultFields::new(), events);
        let plain = text(PlainFields, events);
        assert_eq!(plain, default);
        default
    }

    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("outer \u{1b}[31mfailed")
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("inner cause")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    impl std::error::Error for Inner {}

    #[test]
    fn the_access_log_line_is_unchanged() {
        let out = same(&|| {
            let method = poem::http::Method::POST;
            tracing::info!(target: "warden::access", %method, path = %"/mcp", status = 200u16,
                elapsed_ms = 0.412_f64, request_id = "0b9f6f7e-4a8e", trace_id = Some("4bf92f35"), "request");
            tracing::info!(target: "warden::access", %method, path = %"/mcp", status = 401u16,
                elapsed_ms = 12.0_f64, request_id = "id", trace_id = None::<&str>, "request");
        });
        assert!(
            out.contains(r#"request method=POST path=/mcp status=200 elapsed_ms=0.412 request_id="0b9f6f7e-4a8e" trace_id="4bf92f35""#),
            "{out}"
        );
    }

    #[test]
    fn every_kind_of_field_is_unchanged() {
        same(&|| {
            let err = Outer(Inner);
            tracing::warn!(
                a = 1,
                b = -2i64,
                c = true,
                d = 1.5f64,
                e = u64::MAX,
                f = i128::MIN,
                g = "q\"uote\n"
            );
            tracing::warn!(
                r#type = "t",
                r#loop = 3,
                "log.target" = "skipped?",
                "log.x" = 1,
                z = 0
            );
            tracing::error!(
                error = &err as &(dyn std::error::Error + 'static),
                "failed: {}",
                7
            );
            tracing::error!(error = &Inner as &(dyn std::error::Error + 'static));
            tracing::info!("only a message with \u{1b}[1m escapes \u{9b} and \u{7f}");
            tracing::info!(message = "message as a field", x = ?vec![1, 2]);
            tracing::info!(x = ?Some("dbg"), y = %"display \u{1b}", "");
            tracing::debug!(bytes = ?b"\x00\xff".as_slice());
            let span = tracing::info_span!(
                "request",
                method = "GET",
                n = 1,
                later = tracing::field::Empty
            );
            let _entered = span.enter();
            span.record("later", "set");
            tracing::info!(inner = 1, "inside {}", "span");
            let child = tracing::info_span!("child", r#type = "x", "log.file" = "f");
            child.in_scope(|| tracing::trace!(k = "v"));
        });
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn any_text_is_formatted_the_same(message in ".*", value in ".*", n in any::<i64>()) {
            same(&|| {
                tracing::info!(value = value.as_str(), shown = %value, n, "{}", message);
                tracing::info!(message = message.as_str(), v = ?value);
                tracing::info!("log.a" = value.as_str(), "{}", message);
                tracing::info!("log.a" = n, r#type = value.as_str(), "");
            });
        }
    }
}
