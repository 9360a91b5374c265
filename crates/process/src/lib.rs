//! What every program of ours does as it starts: its logs to the systemd journal or to
//! stderr ([`init_logging`]), a quiet end on a closed pipe for one-shot commands
//! ([`die_quietly_on_a_closed_pipe`]), and the C allocator told to give memory back
//! ([`memory`]), and the async runtime ([`async_runtime`]). The kiosk and `ekyc-engine`
//! both start this way.
//!
//! Its `unsafe` code is three calls into the C library, each with its SAFETY comment (the
//! workspace's only other `unsafe` code is Tesseract's C API, in `ekyc-reading`). It uses
//! no other crate of ours.
#![warn(missing_docs)]

pub mod memory;

/// The async runtime a program runs its network work on, its threads named
/// `thread_name`; `worker_threads`: `None` for one per core. When the system refuses one,
/// the reason is printed and the exit code returned.
pub fn async_runtime(
    thread_name: &str,
    worker_threads: Option<usize>,
) -> Result<tokio::runtime::Runtime, std::process::ExitCode> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = worker_threads {
        builder.worker_threads(workers);
    }
    builder
        .thread_name(thread_name)
        .enable_all()
        .build()
        .map_err(|error| {
            eprintln!("error: cannot start the async runtime: {error}");
            std::process::ExitCode::from(1)
        })
}

/// One-shot commands end quietly when their reader goes away (`ekyc-kiosk config | head`),
/// as Unix tools do, instead of panicking in `println!` on the broken pipe. The kiosk and
/// `serve` keep Rust's default (the signal ignored): a closed log pipe must not stop them.
pub fn die_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    #[allow(unsafe_code)]
    // SAFETY: called at the start of `main`, before any thread exists; restores the
    // signal's default disposition and installs no handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Logs go to the systemd journal when systemd connected stderr to it (each event with its
/// priority, under `identifier`), else to stderr. `EKYC_LOG` (tracing's filter syntax)
/// sets the level; without it, `default` (e.g. `warn,ekyc_kiosk=info`). No event carries
/// personal data: `tests/cli.rs` and `tests/kiosk_ui.rs` log at trace and look.
pub fn init_logging(default: &str, identifier: &str) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("EKYC_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
    };
    if stderr_is_the_journal() {
        if let Ok(journal) = tracing_journald::layer() {
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(journal.with_syslog_identifier(identifier.into()))
                .try_init();
            return;
        }
    }
    // Colour only on a terminal: escape codes are noise in a log file.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .try_init();
}

/// systemd sets `JOURNAL_STREAM=device:inode` for a service whose stderr is the journal;
/// the variable alone may have been inherited by a child whose stderr went elsewhere.
fn stderr_is_the_journal() -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
            return false;
        };
        std::fs::metadata("/proc/self/fd/2").is_ok_and(|stderr| {
            stream.to_string_lossy() == format!("{}:{}", stderr.dev(), stderr.ino())
        })
    }
    #[cfg(not(target_os = "linux"))]
    false
}
