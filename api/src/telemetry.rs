//! Logging: one line per request with method, path, route, status, latency and request id.
//! Request bodies are never logged: they carry answers and messages (sensitive data).
//!
//! Lines are gathered in memory and written to standard output in batches: every
//! [`FLUSH_EVERY`] by a writer thread, at once when [`FLUSH_BYTES`] are waiting, and when the
//! process ends ([`LogGuard`]). A request pays for formatting its line and a copy, not for a
//! system call. (`tracing-appender`'s non-blocking writer wakes its thread for every line;
//! measured on this 2-core machine that cost as much as writing the line directly, see
//! `tests/bench/read_path.sh`.) Colours only on a terminal.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

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

/// Installs the subscriber; `None` when the writer thread could not start (then lines are
/// written directly).
pub fn init() -> Option<LogGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal());
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
}
