//! A one-line progress indicator on stderr, shown only when stderr is a terminal, so logs
//! and pipes stay clean.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Shows "⠹ Syncing Salesforce org acme-prod… (1.4s)" until dropped or [`Progress::finish`].
pub struct Progress {
    state: Option<Arc<Shared>>,
}

struct Shared {
    message: Mutex<String>,
    done: AtomicBool,
}

impl Progress {
    /// Starts the spinner when stderr is a terminal; otherwise every call is a no-op.
    pub fn start(message: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { state: None };
        }
        let shared = Arc::new(Shared {
            message: Mutex::new(message.to_string()),
            done: AtomicBool::new(false),
        });
        let ticker = shared.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut frame = 0;
            while !ticker.done.load(Ordering::Relaxed) {
                let msg = ticker.message.lock().map(|m| m.clone()).unwrap_or_default();
                let mut err = std::io::stderr().lock();
                let _ = write!(
                    err,
                    "\r\x1b[2K{} {msg} ({:.1}s)",
                    FRAMES[frame % FRAMES.len()],
                    started.elapsed().as_secs_f64()
                );
                let _ = err.flush();
                drop(err);
                frame += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        });
        Progress {
            state: Some(shared),
        }
    }

    pub fn set(&self, message: &str) {
        if let Some(s) = &self.state
            && let Ok(mut m) = s.message.lock()
        {
            *m = message.to_string();
        }
    }

    pub fn finish(self) {}
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(s) = &self.state {
            s.done.store(true, Ordering::Relaxed);
            // Give the ticker a moment to clear its line before stdout is written.
            std::thread::sleep(Duration::from_millis(120));
        }
    }
}
