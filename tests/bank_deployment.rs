//! The reference deployment for a bank (`packaging/bank-demo`: PostgreSQL, two engine
//! replicas, HAProxy configured from `packaging/bank/haproxy.cfg`) on loopback, driven as
//! a kiosk drives it: a customer enrols through the front, the replica that served them
//! is killed, and they authenticate through the front on the other; a kiosk guessing keys
//! is locked out on every replica, and only it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

#[path = "../benches/support/bank_demo.rs"]
mod bank_demo;
mod common;

use bank_demo::Deployment;
use common::*;
use ekyc_client::PreparedImage;
use ekyc_contract::KryptonAction;
use ekyc_kiosk::verification::VerificationResult;

/// A Krypton journey through the front for the card's holder, with the test's images.
async fn verify(
    deployment: &Deployment,
    action: KryptonAction,
    selfie: PreparedImage,
) -> VerificationResult {
    deployment
        .verify(action, "079203001234", front(), selfie, fast_retry())
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

/// Behind the front every request comes from HAProxy's address. The replicas trust it
/// (`engine.trusted_proxies`) to name the kiosk (`X-Forwarded-For`), and count wrong keys
/// in the database they share: a kiosk at 127.0.0.2 guessing keys is locked out after the
/// tenth, however the front spread its guesses over the replicas, and then refused by
/// both even with the right key; a kiosk at 127.0.0.3 is served meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_kiosk_guessing_keys_through_the_front_is_locked_out_on_every_replica_and_only_it() {
    let deployment = Deployment::up(2);
    let url = deployment.env()["EKYC_FRONT_URL"].clone();
    let key = deployment.secret("EKYC_API_KEY_FILE");
    let kiosk_at = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
            .unwrap()
    };
    let session_init = |kiosk: &reqwest::Client, key: &str| {
        let request = kiosk
            .post(format!("{url}/session/init"))
            .header("api-key", key)
            .header("device-type", "kiosk");
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let guesser = kiosk_at(2);
    let mut answers = Vec::new();
    for _ in 0..12 {
        answers.push(session_init(&guesser, "not-the-key").await);
    }
    assert_eq!(answers, [[401; 10].as_slice(), &[429, 429]].concat());
    let spread: Vec<usize> = (1..=2)
        .map(|n| deployment.answered(n, " POST /session/init 401 "))
        .collect();
    assert!(
        spread.iter().all(|&wrong| wrong > 0) && spread.iter().sum::<usize>() == 10,
        "the front sent the ten wrong keys to both replicas: {spread:?}"
    );
    for _ in 0..4 {
        assert_eq!(session_init(&guesser, key.expose()).await, 429);
    }
    assert_eq!(session_init(&kiosk_at(3), key.expose()).await, 200);
}
