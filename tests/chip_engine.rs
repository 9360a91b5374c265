//! `POST /chip/verify` (ours): the engine checks a chip's files with its own CSCA list and
//! answers its own verdict. A kiosk that says the chip is fine (its altered DG2 sent
//! with a claim of `valid`) gets `invalid` back, DG2 named.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use std::collections::BTreeMap;

use base64::Engine as _;
use ekyc_engine::EngineSettings;
use ekyc_testchip::lds::{data_groups, dg2, PhotoType};
use ekyc_testchip::pki::TestPki;
use ekyc_testchip::sample;
use serde_json::{json, Value};

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The request for `sod` and `groups`, with the kiosk's own (ignored) claim of `valid`.
fn request(sod: &[u8], groups: &BTreeMap<u8, Vec<u8>>) -> Value {
    let groups: BTreeMap<String, String> = groups
        .iter()
        .map(|(number, content)| (number.to_string(), base64(content)))
        .collect();
    json!({
        "sod": base64(sod),
        "data_groups": groups,
        "passive_authentication": {"status": "valid", "problems": []},
    })
}

/// An engine trusting `pki`'s CSCA (or none).
async fn engine(pki: Option<&TestPki>) -> ekyc_engine::EngineHandle {
    let mut settings = EngineSettings {
        faces: None,
        matcher: None,
        mesh: None,
        ..EngineSettings::default()
    };
    if let Some(pki) = pki {
        settings.csca.add_bytes(&pki.csca_der()).unwrap();
    }
    common::start_engine(settings).await
}

async fn post(engine: &ekyc_engine::EngineHandle, key: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/chip/verify", engine.base_url()))
        .header("api-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_gives_its_own_verdict_whatever_the_kiosk_claims() {
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let engine = engine(Some(&pki)).await;
    let key = engine.api_key().expose().to_owned();
    let mut groups = data_groups(&sample::holder());
    let sod = pki.sod(&groups);

    let (status, reply) = post(&engine, &key, &request(&sod, &groups)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["computed_by"], "engine");
    assert_eq!(
        reply["passive_authentication"]["status"], "valid",
        "{reply}"
    );
    assert_eq!(
        reply["passive_authentication"]["groups_verified"],
        json!([1, 2, 13])
    );

    // The photo swapped after signing, sent as "valid": invalid, DG2 named.
    let mut other = sample::photo();
    other[300] ^= 0x33;
    groups.insert(2, dg2(&other, PhotoType::Jpeg, 480, 640));
    let (status, reply) = post(&engine, &key, &request(&sod, &groups)).await;
    assert_eq!(status, 200);
    assert_eq!(
        reply["passive_authentication"]["status"], "invalid",
        "{reply}"
    );
    let problems = reply["passive_authentication"]["problems"].to_string();
    assert!(problems.contains("DG2 differs"), "{problems}");

    // Bad input and a wrong key are refused.
    let (status, reply) = post(
        &engine,
        &key,
        &json!({"sod": "not base64!", "data_groups": {"1": "AA=="}}),
    )
    .await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (400, Some("400")),
        "{reply}"
    );
    let (status, _) = post(&engine, "wrong key", &request(&sod, &groups)).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_without_the_cards_csca_answers_untrusted() {
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let engine = engine(None).await;
    let key = engine.api_key().expose().to_owned();
    let groups = data_groups(&sample::holder());
    let (status, reply) = post(&engine, &key, &request(&pki.sod(&groups), &groups)).await;
    assert_eq!(status, 200);
    assert_eq!(
        reply["passive_authentication"]["status"], "untrusted",
        "{reply}"
    );
    let problems = reply["passive_authentication"]["problems"].to_string();
    assert!(problems.contains("no CSCA is installed"), "{problems}");
}
