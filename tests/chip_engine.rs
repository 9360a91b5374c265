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

/// The chip on `chip`, read by the kiosk's code through a reader and checked against
/// `pki`'s CSCA.
fn read_on_a_reader(chip: ekyc_testchip::SoftChip, pki: &TestPki) -> ekyc_kiosk::chip::ChipOutcome {
    let mut trust = ekyc_chip::passive::TrustList::default();
    trust.add_bytes(&pki.csca_der()).unwrap();
    let key = ekyc_chip::MrzKey {
        document_number: sample::DOCUMENT.into(),
        birth: sample::BIRTH.into(),
        expiry: sample::EXPIRY.into(),
    };
    let reader = common::chip::SoftReader::holding(Some(chip));
    ekyc_kiosk::chip::read_and_check(&reader, "", &key, &trust, &mut |_| {}).unwrap()
}

/// ENROLL of `customer` (card, chip, selfie) on `engine`.
async fn enrol_with_chip(
    engine: &ekyc_engine::EngineHandle,
    customer: &str,
    chip: ekyc_kiosk::chip::ChipOutcome,
) -> ekyc_kiosk::verification::VerificationResult {
    use ekyc_contract::{KryptonAction, KryptonFlow, LivenessModel, Secret};
    let krypton = ekyc_client::KryptonClient::new(
        engine.base_url(),
        engine.company_id().clone(),
        std::time::Duration::from_secs(2),
        std::time::Duration::from_secs(60),
        common::fast_retry(),
        &ekyc_client::ClientTls::default(),
    )
    .unwrap();
    let journey = ekyc_kiosk::verification::Journey {
        action: KryptonAction::Enroll,
        flow: KryptonFlow::CardFirst,
        model: LivenessModel::Passive,
        customer_id: Some(Secret::new(customer)),
    };
    let mut verification = ekyc_kiosk::verification::Verification::for_journey(
        common::client_for(engine),
        Some(&krypton),
        &journey,
        false,
    )
    .unwrap()
    .with_chip(Some(chip));
    let document =
        ekyc_client::OcrRequest::both_sides(ekyc_client::DocumentType::Idr, common::front(), None);
    verification
        .run(Some(document), &[common::selfie()], None, &|_| {})
        .await
        .expect("the verification runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolment_keeps_the_face_only_when_it_matches_the_chips_photo() {
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let folder = tempfile::tempdir().unwrap();
    let mut settings = common::with_enrolments_in(folder.path(), EngineSettings::default());
    settings.csca.add_bytes(&pki.csca_der()).unwrap();
    let engine = common::start_engine(settings).await;

    // The holder's own card: the engine's verdict, the selfie matches the chip's photo,
    // the face is kept, and the chip agrees with the print field by field.
    let result = enrol_with_chip(
        &engine,
        "chip-holder",
        read_on_a_reader(sample::chip(&pki), &pki),
    )
    .await;
    let chip = result.chip.clone().expect("the chip's part of the result");
    assert_eq!(chip.judged_by, ekyc_kiosk::verification::ChipJudge::BackEnd);
    assert_eq!(chip.verdict.status, "valid", "{:?}", chip.verdict.problems);
    let face_match = chip
        .face_match
        .clone()
        .expect("matched with the chip's photo");
    assert_eq!(face_match.is_match, Some(true), "{face_match:?}");
    assert!(face_match
        .similarity
        .is_some_and(|similarity| similarity > 80.0));
    assert_eq!(result.enrolled, Some(true));
    // One selfie (the passive model): liveness is not evaluated, nothing is refused.
    assert_eq!(
        result.verdict(),
        ekyc_kiosk::verification::Verdict::NotEvaluated {
            liveness: true,
            face_match: false
        }
    );
    let chip_proved: Vec<&str> = result
        .cross_check
        .iter()
        .filter(|agreement| agreement.proofs.contains(&ekyc_reading::Proof::Chip))
        .map(|agreement| agreement.key.as_str())
        .collect();
    assert!(
        chip_proved.contains(&"ID") && chip_proved.contains(&"Date of birth"),
        "{chip_proved:?}"
    );

    // A genuine chip of somebody else (validly signed, a stranger's photo) with this
    // card's print: the face is not kept, and the result is a refusal.
    let mut stranger = sample::holder();
    let face = image::open(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/face-match/grace-hopper-face.png"),
    )
    .unwrap();
    stranger.photo = common::jpeg(&face.to_rgb8());
    let groups = data_groups(&stranger);
    let chip = ekyc_testchip::SoftChip::new(
        ekyc_testchip::lds::files(&groups, pki.sod(&groups)),
        sample::DOCUMENT,
        sample::BIRTH,
        sample::EXPIRY,
    );
    let result = enrol_with_chip(&engine, "chip-stranger", read_on_a_reader(chip, &pki)).await;
    let chip = result.chip.clone().unwrap();
    assert_eq!(chip.verdict.status, "valid");
    assert_eq!(chip.is_match(), Some(false), "{:?}", chip.face_match);
    assert_eq!(result.enrolled, Some(false));
    assert_eq!(
        result.verdict(),
        ekyc_kiosk::verification::Verdict::Rejected
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_back_end_that_cannot_check_chips_leaves_the_kiosks_verdict_marked_as_the_kiosks() {
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    // FPT.AI's back end has no /chip/verify: 404, as the engine's script plays it.
    let engine = common::scripted_engine(
        "[[chip_verify]]\nstatus = 404\nbody = '{\"detail\": \"Not Found\"}'\n",
    )
    .await;
    let mut verification = ekyc_kiosk::verification::Verification::new(common::client_for(&engine))
        .with_chip(Some(read_on_a_reader(sample::chip(&pki), &pki)));
    let document =
        ekyc_client::OcrRequest::both_sides(ekyc_client::DocumentType::Idr, common::front(), None);
    let result = verification
        .run(Some(document), &[common::selfie()], None, &|_| {})
        .await
        .expect("the verification runs without the back end's chip check");
    assert_eq!(
        engine.requests(ekyc_engine::ScriptedEndpoint::ChipVerify),
        1
    );
    let chip = result.chip.expect("the chip's part of the result");
    assert_eq!(chip.judged_by, ekyc_kiosk::verification::ChipJudge::Kiosk);
    assert_eq!(
        chip.verdict.status, "valid",
        "the kiosk's list holds the CSCA"
    );
    let face_match = chip.face_match.expect("matched on the kiosk");
    assert_eq!(face_match.is_match, Some(true), "{face_match:?}");
}
