//! Writes a made-up CCCD front (printed fields and a real QR code, fake data) and back
//! (printed fields and a real MRZ), for
//! demos and staff training: `cargo run --example demo_card -- DIR`
//! (kept under tests/ because it is built from the tests' own generator).
//! The images come from the same generator the integration tests use.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

#[path = "../common/mod.rs"]
mod common;

fn main() -> std::process::ExitCode {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let front = dir.join("demo-card-front.png");
    let back = dir.join("demo-card-back.png");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| {
            std::fs::write(
                &front,
                common::png(&common::card::render_front(&common::card::Person::demo())),
            )
        })
        .and_then(|()| {
            std::fs::write(
                &back,
                common::png(&common::card::render_back(&common::card::Person::demo())),
            )
        });
    match written {
        Ok(()) => {
            println!("{}\n{}", front.display(), back.display());
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: cannot write to {}: {error}", dir.display());
            std::process::ExitCode::from(2)
        }
    }
}
