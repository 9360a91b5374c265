//! The bank's reference deployment on loopback (`packaging/bank-demo`), for the test that
//! drives it (`tests/bank_deployment.rs`) and the load bench (`benches/bank_load.rs`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use ekyc_client::{FptClient, FptSettings, KryptonClient, PreparedImage, RetryPolicy};
use ekyc_contract::{KryptonAction, KryptonFlow, LivenessModel, Secret};
use ekyc_kiosk::verification::{Failure, Journey, Verification, VerificationResult};

/// The deployment, brought down when dropped.
pub struct Deployment {
    folder: tempfile::TempDir,
}

impl Deployment {
    pub fn up(replicas: usize) -> Self {
        let folder = tempfile::tempdir().unwrap();
        let deployment = Self { folder };
        deployment.script(&["up", &deployment.dir(), &replicas.to_string()]);
        deployment
    }

    pub fn dir(&self) -> String {
        self.folder.path().join("bank").to_str().unwrap().to_owned()
    }

    /// Runs `packaging/bank-demo` with a clean environment, the kiosk's binary as the
    /// engine (its `serve` is the engine's).
    pub fn script(&self, arguments: &[&str]) {
        let output = Command::new(script_path())
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
    pub fn env(&self) -> HashMap<String, String> {
        std::fs::read_to_string(Path::new(&self.dir()).join("env"))
            .unwrap()
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    pub fn secret(&self, name: &str) -> Secret {
        Secret::new(std::fs::read_to_string(&self.env()[name]).unwrap().trim())
    }

    /// The replica HAProxy sent the last request for `path` answered 200 to
    /// ("replica1", …).
    pub fn served(&self, path: &str) -> String {
        self.servers(path, 200)
            .pop()
            .unwrap_or_else(|| panic!("no POST {path} answered 200 in HAProxy's log"))
    }

    /// The replicas HAProxy sent each request for `path` answered `status` to, in order.
    pub fn servers(&self, path: &str, status: u16) -> Vec<String> {
        let log = std::fs::read_to_string(Path::new(&self.dir()).join("haproxy.log")).unwrap();
        log.lines()
            .filter(|line| {
                line.contains(&format!("\"POST {path} ")) && line.contains(&format!(" {status} "))
            })
            .filter_map(|line| {
                line.split_whitespace()
                    .find_map(|word| word.strip_prefix("engines/"))
                    .map(str::to_owned)
            })
            .collect()
    }

    /// How many requests replica `n` answered whose log line holds `what` (" POST /",
    /// " POST /session/init 401 "), from its own log, kept across its restarts.
    pub fn answered(&self, n: usize, what: &str) -> usize {
        std::fs::read_to_string(Path::new(&self.dir()).join(format!("replica{n}.log")))
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains(what))
            .count()
    }
}

impl Deployment {
    /// One Krypton journey (`action`, card first, one selfie) through the front, as a
    /// kiosk's verification runs it: `front` is read for ENROLL.
    pub async fn verify(
        &self,
        action: KryptonAction,
        customer: &str,
        front: PreparedImage,
        selfie: PreparedImage,
        retry: RetryPolicy,
    ) -> Result<VerificationResult, Failure> {
        let url = self.env()["EKYC_FRONT_URL"].clone();
        let client = FptClient::new(FptSettings {
            retry,
            request_timeout: std::time::Duration::from_secs(30),
            ..FptSettings::new(&url, self.secret("EKYC_API_KEY_FILE"))
        })
        .unwrap();
        let krypton = KryptonClient::new(
            &url,
            self.secret("EKYC_COMPANY_ID_FILE"),
            std::time::Duration::from_secs(5),
            std::time::Duration::from_secs(60),
            retry,
            &ekyc_client::ClientTls::default(),
        )
        .unwrap();
        let journey = Journey {
            action,
            flow: KryptonFlow::CardFirst,
            model: LivenessModel::Passive,
            customer_id: Some(Secret::new(customer)),
        };
        let mut verification =
            Verification::for_journey(client, Some(&krypton), &journey, false).unwrap();
        let document = journey.reads_document().then(|| {
            ekyc_client::OcrRequest::both_sides(ekyc_client::DocumentType::Idr, front, None)
        });
        verification.run(document, &[selfie], None, &|_| {}).await
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let _ = Command::new(script_path())
            .args(["down", &self.dir()])
            .output();
    }
}

fn script_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/bank-demo")
}
