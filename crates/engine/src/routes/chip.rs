//! `POST /chip/verify` (ours, `docs/contract.md`): passive authentication of a chip's
//! files, by the engine with the engine's CSCA list (`engine.csca`). The decision is made
//! where the trust list lives: the kiosk's own verdict is never sent, nor read.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;

use super::{answer, header, lang_of, reply, run_blocking, session_problem, EngineState, Refusal};
use crate::script::ScriptedEndpoint;
use crate::sessions::{CardFace, ChipEvidence};
use ekyc_chip::passive::{authenticate, Status};
use ekyc_contract::{ChipVerdict, ChipVerifyReply, ChipVerifyRequest, Code, Lang, Shape};

/// More data groups than any chip holds.
const MAX_GROUPS: usize = 16;

/// EF.SOD and the data groups by number, as the chip gave them.
type ChipFiles = (Vec<u8>, BTreeMap<u8, Vec<u8>>);

pub(super) async fn chip_verify(
    State(state): State<Arc<EngineState>>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let lang = lang_of(&headers);
    answer(
        async {
            if let Some(response) = state.scripted(ScriptedEndpoint::ChipVerify).await {
                return Err(response);
            }
            state.check_api_key(&headers, Shape::Code, lang)?;
            let session = session_of(&state, &headers, lang).await?;
            let (sod, groups) = files_of(body, lang)?;
            let trust = state.csca.clone();
            let photo = groups.get(&2).and_then(|group| ekyc_chip::lds::dg2(group));
            // Signatures and hashes: a few milliseconds of a core, off the async threads.
            let verdict = run_blocking(Shape::Code, "checking the chip", move || {
                authenticate(&sod, &groups, &trust, SystemTime::now())
            })
            .await?;
            tracing::info!(status = verdict.status.as_str(), "chip checked");
            let kept_for_session = match session {
                Some((id, device_type)) => {
                    let face = photo_face(&state, photo).await?;
                    let evidence = ChipEvidence {
                        status: verdict.status,
                        face,
                    };
                    state
                        .session(&id, &device_type, move |session| {
                            session.chip = Some(evidence);
                        })
                        .await
                        .map_err(|problem| session_problem(problem, Shape::Code, lang))?;
                    true
                }
                None => false,
            };
            let reply = ChipVerifyReply {
                code: Code::Success.as_str(Shape::Code).to_owned(),
                message: lang.say("The chip was checked", "Đã kiểm tra chip"),
                computed_by: "engine".into(),
                passive_authentication: Some(ChipVerdict::from(verdict)),
                kept_for_session,
            };
            Ok(Json(reply).into_response())
        }
        .await,
    )
}

/// The session the request names (`session-id` and `device-type`, as `/ocr` takes them),
/// checked; `None` when it names none.
async fn session_of(
    state: &EngineState,
    headers: &HeaderMap,
    lang: Lang,
) -> Result<Option<(String, String)>, Refusal> {
    let Some(id) = header(headers, &["session-id", "session_id"]) else {
        return Ok(None);
    };
    let device_type = state.device_type(headers, Shape::Code, lang)?;
    state
        .session(id, device_type, |_| ())
        .await
        .map_err(|problem| session_problem(problem, Shape::Code, lang))?;
    Ok(Some((id.to_owned(), device_type.to_owned())))
}

/// The face on the chip's photo, embedded for the match with the session's selfie:
/// `NoFace` when the photo has none (or cannot be decoded), `NotChecked` without the
/// models.
async fn photo_face(
    state: &EngineState,
    photo: Option<ekyc_chip::lds::ChipPhoto>,
) -> Result<CardFace, Refusal> {
    let (Some(detector), Some(matcher)) = (state.faces.clone(), state.matcher.clone()) else {
        return Ok(CardFace::NotChecked);
    };
    run_blocking(Shape::Code, "reading the chip's photo", move || {
        let Some(picture) = photo
            .as_ref()
            .and_then(|photo| ekyc_imaging::decode_photo(&photo.bytes).ok())
            .map(|picture| picture.to_rgb8())
        else {
            return CardFace::NoFace;
        };
        match detector.detect_thorough(&picture) {
            Ok(faces) => match faces.first() {
                Some(face) => CardFace::Found(Box::new(matcher.embed_face(&picture, face))),
                None => CardFace::NoFace,
            },
            Err(_) => CardFace::NoFace,
        }
    })
    .await
}

/// Whether an ENROLL may keep the selfie, as far as the chip goes: a chip read in the
/// session must be the issuer's (not `invalid`) and its photo must match the selfie.
pub(super) fn chip_allows_enrolment(
    chip: Option<&ChipEvidence>,
    chip_match: Option<bool>,
) -> Result<(), &'static str> {
    match (chip, chip_match) {
        (None, _) => Ok(()),
        (Some(chip), _) if chip.status == Status::Invalid => {
            Err("the chip's data is not the issuer's (passive authentication: invalid)")
        }
        (Some(_), Some(true)) => Ok(()),
        (Some(_), Some(false)) => Err("the face does not match the chip's photo"),
        (Some(_), None) => Err("the face was not matched with the chip's photo"),
    }
}

/// The SOD and the data groups from the request, decoded; a request that is not one is
/// refused with what is wrong.
fn files_of(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    lang: Lang,
) -> Result<ChipFiles, Refusal> {
    let bad = |english: &str, vietnamese: &str| {
        reply(
            Shape::Code,
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            &lang.say(english, vietnamese),
        )
    };
    let body = body.map_err(|_| {
        bad(
            "the request's body cannot be read",
            "không đọc được nội dung yêu cầu",
        )
    })?;
    let request: ChipVerifyRequest = serde_json::from_slice(&body).map_err(|_| {
        bad(
            "expected JSON: {\"sod\": base64, \"data_groups\": {\"1\": base64, …}}",
            "cần JSON: {\"sod\": base64, \"data_groups\": {\"1\": base64, …}}",
        )
    })?;
    let decode = |text: &str| base64::engine::general_purpose::STANDARD.decode(text.trim());
    let sod =
        decode(&request.sod).map_err(|_| bad("`sod` is not base64", "`sod` không phải base64"))?;
    if request.data_groups.is_empty() || request.data_groups.len() > MAX_GROUPS {
        return Err(bad(
            "`data_groups` must hold the data groups read",
            "`data_groups` phải chứa các nhóm dữ liệu đã đọc",
        ));
    }
    let mut groups = BTreeMap::new();
    for (number, content) in &request.data_groups {
        let number: u8 = number
            .parse()
            .ok()
            .filter(|number| (1..=16).contains(number))
            .ok_or_else(|| {
                bad(
                    "a data group's number is not 1 to 16",
                    "số nhóm dữ liệu không nằm trong 1–16",
                )
            })?;
        let content = decode(content).map_err(|_| {
            bad(
                "a data group is not base64",
                "một nhóm dữ liệu không phải base64",
            )
        })?;
        groups.insert(number, content);
    }
    Ok((sod, groups))
}
