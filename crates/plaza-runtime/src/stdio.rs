//! Guest stdout and stderr: captured in memory up to a bound, then logged as `tracing` lines
//! (target `plaza_runtime::guest`), never written to the host's own stdout. Output beyond the
//! bound is dropped; the guest is never blocked or failed because of it.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// A bounded in-memory sink for one guest stream.
#[derive(Clone, Debug)]
pub struct Captured {
    buffer: Arc<Mutex<CapturedBytes>>,
}

#[derive(Debug)]
struct CapturedBytes {
    bytes: Vec<u8>,
    limit: usize,
    dropped: u64,
}

impl Captured {
    /// A sink keeping at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Captured {
            buffer: Arc::new(Mutex::new(CapturedBytes {
                bytes: Vec::new(),
                limit,
                dropped: 0,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CapturedBytes> {
        self.buffer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, data: &[u8]) {
        let mut b = self.lock();
        let room = b.limit.saturating_sub(b.bytes.len());
        let kept = room.min(data.len());
        b.bytes.extend_from_slice(&data[..kept]);
        b.dropped += (data.len() - kept) as u64;
    }

    /// What was kept, as (lossy) text, and how many bytes were dropped.
    pub fn text(&self) -> (String, u64) {
        let b = self.lock();
        (String::from_utf8_lossy(&b.bytes).into_owned(), b.dropped)
    }

    /// Logs every line at info level (stdout) or warn level (stderr).
    pub fn log(&self, instance: &str, stream: &'static str) {
        let (text, dropped) = self.text();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if stream == "stderr" {
                tracing::warn!(target: "plaza_runtime::guest", instance, stream, "{line}");
            } else {
                tracing::info!(target: "plaza_runtime::guest", instance, stream, "{line}");
            }
        }
        if dropped > 0 {
            tracing::warn!(target: "plaza_runtime::guest", instance, stream, dropped, "guest output beyond the capture limit was dropped");
        }
    }
}

impl IsTerminal for Captured {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Captured {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for Captured {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_beyond_the_limit_is_dropped_not_refused() {
        let captured = Captured::new(8);
        captured.push(b"hello ");
        captured.push(b"world");
        assert_eq!(captured.text(), ("hello wo".to_owned(), 3));
    }
}
