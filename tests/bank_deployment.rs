//! The reference deployment for a bank (`packaging/bank-demo`: PostgreSQL, two engine
//! replicas, HAProxy configured from `packaging/bank/haproxy.cfg`) on loopback, driven as
//! a kiosk drives it: a customer enrols through the front, the replica that served them
//! is killed, and they authenticate through the front on the other.

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
