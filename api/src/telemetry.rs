//! Logging: one line per request with method, path, route, status, latency and request id.
//! Request bodies are never logged: they carry answers and messages (sensitive data).
//!
//! Lines are gathered in memory and written to standard output in batches: every
//! [`FLUSH_EVERY`] by a writer thread, at once when [`FLUSH_BYTES`] are waiting, and when the
//! process ends ([`LogGuard`]). A request pays for formatting its line and a copy, not for a
//! system call. (`tracing-appender`'s non-blocking writer wakes its thread for every line;
//! measured on this 2-core machine that cost as much as writing the line directly, see
//! `tests/bench/read_path.sh`.) Colours only on a terminal.
//!
//! Lines are formatted by [`LineFormat`]: the text of `tracing-subscriber`'s default format
//! (without targets), with the request's context taken from
//! [`crate::request_context`] instead of a span, and the timestamp's date and time of day
//! formatted once a second. A unit test holds the two texts equal.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

use crate::request_context;

/// The longest a line waits before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Waiting lines of this size are written at once.
pub const FLUSH_BYTES: usize = 64 * 1024;
/// Beyond this (standard output is not keeping up), a line is written by the request itself.
const MAX_PENDING_BYTES: usize = 8 * 1024 * 1024;

#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn write_out(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// Standard output, written in batches (see the module).
#[derive(Clone)]
pub struct BatchedStdout {
    shared: Arc<Shared>,
}

/// A line being written: appended to the batch.
pub struct Line<'a> {
    shared: &'a Shared,
}

impl Write for Line<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut p = self.shared.lock();
        if p.closed || p.buf.len() + bytes.len() > MAX_PENDING_BYTES {
            let waiting = std::mem::take(&mut p.buf);
            drop(p);
            write_out(&waiting);
            write_out(bytes);
            return Ok(bytes.len());
        }
        p.buf.extend_from_slice(bytes);
        if p.buf.len() >= FLUSH_BYTES {
            self.shared.wake.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStdout {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        Line {
            shared: &self.shared,
        }
    }
}

/// Keep it for the life of the process: dropping it writes what is still waiting.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The batched writer and its writer thread.
pub fn batched_stdout() -> std::io::Result<(BatchedStdout, LogGuard)> {
    let shared = Arc::new(Shared::default());
    let worker = shared.clone();
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || {
            loop {
                let mut p = worker.lock();
                if p.buf.len() < FLUSH_BYTES && !p.closed {
                    p = worker
                        .wake
                        .wait_timeout(p, FLUSH_EVERY)
                        .map(|(guard, _)| guard)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
                let closed = p.closed;
                let batch = std::mem::take(&mut p.buf);
                drop(p);
                if !batch.is_empty() {
                    write_out(&batch);
                }
                if closed {
                    return;
                }
            }
        })?;
    Ok((
        BatchedStdout {
            shared: shared.clone(),
        },
        LogGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

/// The format of every line: `tracing-subscriber`'s `Full` format without targets, e.g.
///
/// ```text
/// 2026-12-06T23:59:21.091169Z  INFO request{method=GET path=/healthz request_id=01a2…}: request status=200 latency_ms=0.407 route="/healthz"
/// ```
///
/// The `request{…}:` part is written for every line logged while a request is handled (see
/// [`crate::request_context`]), followed by the spans the event is in, if any. On a terminal
/// the level is coloured.
pub struct LineFormat;

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        // The default format's styles on a terminal (nothing otherwise).
        let ansi = writer.has_ansi_escapes();
        let [bold, dim, italic, reset] = if ansi {
            ["\x1b[1m", "\x1b[2m", "\x1b[3m", "\x1b[0m"]
        } else {
            [""; 4]
        };
        writer.write_str(dim)?;
        write_timestamp(&mut writer)?;
        write!(writer, "{reset} ")?;
        let (level, colour) = match *event.metadata().level() {
            Level::TRACE => ("TRACE", "\x1b[35m"),
            Level::DEBUG => ("DEBUG", "\x1b[34m"),
            Level::INFO => (" INFO", "\x1b[32m"),
            Level::WARN => (" WARN", "\x1b[33m"),
            Level::ERROR => ("ERROR", "\x1b[31m"),
        };
        if ansi {
            write!(writer, "{colour}{level}{reset} ")?;
        } else {
            write!(writer, "{level} ")?;
        }
        let mut seen = request_context::with_current(|r| {
            let path = r.uri.path();
            write!(
                writer,
                "{bold}request{reset}{bold}{{{reset}\
                 {italic}method{reset}{dim}={reset}{} \
                 {italic}path{reset}{dim}={reset}{path} \
                 {italic}request_id{reset}{dim}={reset}{}\
                 {bold}}}{reset}{dim}:{reset}",
                r.method, r.id
            )
        })
        .transpose()?
        .is_some();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                write!(writer, "{bold}{}{reset}", span.metadata().name())?;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, "{bold}{{{reset}{fields}{bold}}}{reset}")?;
                }
                write!(writer, "{dim}:{reset}")?;
                seen = true;
            }
        }
        if seen {
            writer.write_char(' ')?;
        }
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// The fields of a line (and of spans), as `tracing-subscriber`'s `DefaultFields` writes them:
/// numbers, booleans and plain strings (printable ASCII without quotes or backslashes)
/// directly, everything else by `DefaultFields`' own visitor, so that escaping is its own.
pub struct LineFields;

impl<'writer> FormatFields<'writer> for LineFields {
    fn format_fields<R: RecordFields>(
        &self,
        writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        let mut visitor = LineVisitor {
            writer,
            is_empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct LineVisitor<'a> {
    writer: Writer<'a>,
    is_empty: bool,
    result: std::fmt::Result,
}

impl LineVisitor<'_> {
    /// `name=` with the separating space, for a field written here; `false` when the field is
    /// `DefaultFields`' to write (the message, `r#` names, `log.` metadata, colours).
    fn plain_name(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.result.is_err()
            || self.writer.has_ansi_escapes()
            || name == "message"
            || name.starts_with("r#")
            || name.starts_with("log.")
        {
            return false;
        }
        if !std::mem::take(&mut self.is_empty) {
            self.result = self.writer.write_char(' ');
        }
        self.result = self.result.and_then(|()| write!(self.writer, "{name}="));
        true
    }

    /// Lets `DefaultFields`' visitor write one field.
    fn default(&mut self, field: &Field, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        if self.result.is_err() {
            return;
        }
        let mut visitor = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut visitor);
        self.result = visitor.finish();
        // It writes every field but `log.` metadata (with `tracing-log`, which is on).
        self.is_empty = self.is_empty && field.name().starts_with("log.");
    }
}

impl LineVisitor<'_> {
    /// Writes `name=value` here when the field is plain; `false` leaves it to the default.
    fn write_plain(&mut self, field: &Field, value: impl std::fmt::Display) -> bool {
        if !self.plain_name(field) {
            return false;
        }
        self.result = self.result.and_then(|()| write!(self.writer, "{value}"));
        true
    }
}

impl Visit for LineVisitor<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if !self.write_plain(field, value) {
            self.default(field, |v| v.record_u64(field, value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if !self.write_plain(field, value) {
            self.default(field, |v| v.record_i64(field, value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if !self.write_plain(field, value) {
            self.default(field, |v| v.record_bool(field, value));
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // `Debug`, as the default writes it (`1e-7`, `0.5`).
        if !self.write_plain(field, format_args!("{value:?}")) {
            self.default(field, |v| v.record_f64(field, value));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let plain = value
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
        if !(plain && self.write_plain(field, format_args!("\"{value}\""))) {
            self.default(field, |v| v.record_str(field, value));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.default(field, |v| v.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.default(field, |v| v.record_debug(field, value));
    }
}

thread_local! {
    /// The last second formatted on this thread, and its text (`2026-12-06T23:59:21`).
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// `2026-12-06T23:59:21.091169Z`, as `tracing-subscriber`'s `SystemTime` writes it.
fn write_timestamp(writer: &mut Writer<'_>) -> std::fmt::Result {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    SECOND.with_borrow_mut(|(second, text)| {
        if *second != now.as_secs() {
            let at = i64::try_from(now.as_secs())
                .ok()
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .unwrap_or_default();
            text.clear();
            write!(text, "{}", at.format("%Y-%m-%dT%H:%M:%S"))?;
            *second = now.as_secs();
        }
        write!(writer, "{text}.{:06}Z", now.subsec_micros())
    })
}

/// Installs the subscriber; `None` when the writer thread could not start (then lines are
/// written directly).
pub fn init() -> Option<LogGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .fmt_fields(LineFields)
        .event_format(LineFormat);
    match batched_stdout() {
        Ok((writer, guard)) => {
            let _ = builder.with_writer(writer).try_init();
            Some(guard)
        }
        Err(_) => {
            let _ = builder.try_init();
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_in_the_batch_until_written() {
        let (writer, guard) = batched_stdout().unwrap();
        let mut line = writer.make_writer();
        line.write_all(b"one\n").unwrap();
        line.write_all(b"two\n").unwrap();
        assert_eq!(writer.shared.lock().buf, b"one\ntwo\n");
        std::thread::sleep(FLUSH_EVERY * 3);
        assert!(
            writer.shared.lock().buf.is_empty(),
            "written within FLUSH_EVERY"
        );
        line.write_all(b"three\n").unwrap();
        drop(guard);
        assert!(writer.shared.lock().buf.is_empty(), "written at the end");
    }

    /// Lines written to a buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    /// What a request's handling logs: the request line, a warning with a quoted value, a
    /// line inside a span of its own, and a line outside any request.
    fn log_some_lines() {
        tracing::info!(
            status = 404u16,
            latency_ms = 0.40748999999999996,
            route = Some("/api/v1/articles/{id}"),
            "request"
        );
        tracing::warn!(error = %"连接被拒绝 \"db\"", reason = ?"a\tb", "could not write");
        let inner = tracing::info_span!("refresh", articles = 3u64, kind = "full");
        inner.in_scope(|| {
            tracing::error!(
                attempt = -2i64,
                ok = false,
                ratio = 1e-7,
                big = 1u128 << 100,
                r#type = "x",
                quoted = "say \"hi\"",
                slash = "a\\b",
                chinese = "压力",
                control = "bell\x07",
                cause = &std::io::Error::other("disk full") as &(dyn std::error::Error + 'static),
                "index stale: {}",
                "\x1b[31mred"
            )
        });
        tracing::info!(message = "plain message", n = 1u64);
    }

    /// The lines of [`log_some_lines`] and of one line outside any request, written by
    /// `LineFormat` (the request in the task-local) and by the default `Full` format (the
    /// request as a span), with or without terminal styles.
    fn both_ways(ansi: bool) -> (Vec<String>, Vec<String>) {
        let ours = Captured::default();
        let sink = ours.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(ansi)
            .fmt_fields(LineFields)
            .event_format(LineFormat)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let context = request_context::RequestContext {
                method: actix_web::http::Method::GET,
                uri: "/api/v1/articles/x?page=2".parse().unwrap(),
                id: "01a24dcc-400a-737e-9962-b696521eac40".into(),
            };
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(request_context::within(context, async { log_some_lines() }));
            tracing::info!(port = 8080u64, "listening");
        });

        let theirs = Captured::default();
        let sink = theirs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(ansi)
            .with_target(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!(
                "request",
                method = %actix_web::http::Method::GET,
                path = %"/api/v1/articles/x",
                request_id = %"01a24dcc-400a-737e-9962-b696521eac40",
            )
            .in_scope(log_some_lines);
            tracing::info!(port = 8080u64, "listening");
        });
        (ours.lines(), theirs.lines())
    }

    /// Asserts the same text but for the moment in the timestamp (the first `…Z`).
    fn assert_same_text(ours: &[String], theirs: &[String]) {
        assert_eq!(ours.len(), 5);
        assert_eq!(theirs.len(), 5);
        let split = |s: &str| {
            let end = s.find('Z').expect("a timestamp") + 1;
            let time: String = s[..end]
                .chars()
                .map(|c| if c.is_ascii_digit() { '0' } else { c })
                .collect();
            (time, s[end..].to_owned())
        };
        for (a, b) in ours.iter().zip(theirs) {
            assert!(split(a).0.ends_with("0000-00-00T00:00:00.000000Z"), "{a}");
            assert_eq!(split(a), split(b));
        }
    }

    #[test]
    fn lines_read_exactly_as_the_default_format_with_a_request_span() {
        let (ours, theirs) = both_ways(false);
        assert_same_text(&ours, &theirs);
        assert!(ours[0].ends_with(
            " INFO request{method=GET path=/api/v1/articles/x request_id=01a24dcc-400a-737e-9962-b696521eac40}: request status=404 latency_ms=0.40748999999999996 route=\"/api/v1/articles/{id}\""
        ));
        assert!(
            ours[3].ends_with("}: plain message n=1"),
            "a message given as a field: {}",
            ours[3]
        );
        assert!(
            ours[4].ends_with(" INFO listening port=8080"),
            "{}",
            ours[4]
        );
    }

    #[test]
    fn on_a_terminal_lines_have_the_default_formats_styles() {
        let (ours, theirs) = both_ways(true);
        assert_same_text(&ours, &theirs);
        assert!(ours[0].starts_with("\x1b[2m"), "{:?}", ours[0]);
        assert!(ours[0].contains("\x1b[1mrequest\x1b[0m"), "{:?}", ours[0]);
    }

    #[test]
    fn the_timestamp_is_the_clock_in_utc() {
        let mut text = String::new();
        let before = chrono::Utc::now();
        write_timestamp(&mut Writer::new(&mut text)).unwrap();
        write_timestamp(&mut Writer::new(&mut String::new())).unwrap(); // the cached second
        let at = chrono::DateTime::parse_from_rfc3339(&text).unwrap();
        assert!(at >= before - chrono::Duration::microseconds(1));
        assert!(at <= chrono::Utc::now());
        let mut again = String::new();
        write_timestamp(&mut Writer::new(&mut again)).unwrap();
        assert!(again[..19] >= text[..19]);
    }
}
