//! The reference deployment for a bank (`packaging/bank-demo`: PostgreSQL, two engine
//! replicas, HAProxy configured from `packaging/bank/haproxy.cfg`) on loopback, driven as
//! a kiosk drives it: a customer enrols through the front, the replica that served them
//! is killed, and they authenticate through the front on the other.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use common::*;
use ekyc_client::{KryptonClient, PreparedImage};
use ekyc_contract::{KryptonAction, KryptonFlow, LivenessModel, Secret};
use ekyc_kiosk::verification::{Journey, Verification, VerificationResult};

/// The deployment, brought down when dropped.
struct Deployment {
    folder: tempfile::TempDir,
}

impl Deployment {
    fn up(replicas: usize) -> Self {
        let folder = tempfile::tempdir().unwrap();
        let deployment = Self { folder };
        deployment.script(&["up", &deployment.dir(), &replicas.to_string()]);
        deployment
    }

    fn dir(&self) -> String {
        self.folder.path().join("bank").to_str().unwrap().to_owned()
    }

    /// Runs `packaging/bank-demo` with a clean environment, the kiosk's binary as the
    /// engine (its `serve` is the engine's).
    fn script(&self, arguments: &[&str]) {
        let output =
            Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/bank-demo"))
                .args(arguments)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap())
                .env("HOME", self.folder.path())
                .env("EKYC_ENGINE_BIN", env!("CARGO_BIN_EXE_ekyc-kiosk"))
                .output()
                .unwrap();
        assert!(
            output.status.success(),
            "bank-demo {arguments:?}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `DIR/env`'s variables.
    fn env(&self) -> HashMap<String, String> {
        std::fs::read_to_string(Path::new(&self.dir()).join("env"))
            .unwrap()
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    fn secret(&self, name: &str) -> Secret {
        Secret::new(std::fs::read_to_string(&self.env()[name]).unwrap().trim())
    }

    /// The replica HAProxy sent the last request for `path` to ("replica1", …).
    fn served(&self, path: &str) -> String {
        let log = std::fs::read_to_string(Path::new(&self.dir()).join("haproxy.log")).unwrap();
        let line = log
            .lines()
            .rfind(|line| line.contains(&format!("\"POST {path} ")) && line.contains(" 200 "))
            .unwrap_or_else(|| panic!("no POST {path} answered 200 in the log:\n{log}"));
        line.split_whitespace()
            .find_map(|word| word.strip_prefix("engines/"))
            .unwrap()
            .to_owned()
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let _ = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/bank-demo"))
            .args(["down", &self.dir()])
            .output();
    }
}

async fn verify(
    deployment: &Deployment,
    action: KryptonAction,
    selfie: PreparedImage,
) -> VerificationResult {
    let url = deployment.env()["EKYC_FRONT_URL"].clone();
    let client =
        ekyc_client::FptClient::new(settings_for(&url, deployment.secret("EKYC_API_KEY_FILE")))
            .unwrap();
    let krypton = KryptonClient::new(
        &url,
        deployment.secret("EKYC_COMPANY_ID_FILE"),
        std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(60),
        fast_retry(),
        &ekyc_client::ClientTls::default(),
    )
    .unwrap();
    let journey = Journey {
        action,
        flow: KryptonFlow::CardFirst,
        model: LivenessModel::Passive,
        customer_id: Some(Secret::new("079203001234")),
    };
    let mut verification =
        Verification::for_journey(client, Some(&krypton), &journey, false).unwrap();
    let document = journey.reads_document().then(|| {
        ekyc_client::OcrRequest::both_sides(ekyc_client::DocumentType::Idr, front(), None)
    });
    verification
        .run(document, &[selfie], None, &|_| {})
        .await
        .unwrap_or_else(|failure| panic!("{action:?} through the front: {failure:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn enrolled_through_the_front_then_their_replica_killed_a_customer_authenticates_on_another()
{
    let deployment = Deployment::up(2);
    let enrolled = verify(&deployment, KryptonAction::Enroll, selfie()).await;
    assert_eq!(enrolled.enrolled, Some(true), "{enrolled:?}");
    let first = deployment.served("/api/v3/ekyc");
    let number = first.strip_prefix("replica").unwrap();
    deployment.script(&["stop-replica", &deployment.dir(), number]);

    let auth = verify(&deployment, KryptonAction::Auth, selfie()).await;
    assert_eq!(auth.face_match.unwrap().is_match, Some(true));
    let second = deployment.served("/api/v3/ekyc");
    assert_ne!(
        second, first,
        "the AUTH was served by the replica still running"
    );
}
