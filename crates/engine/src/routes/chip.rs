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

use super::{answer, lang_of, reply, EngineState, Refusal};
use ekyc_chip::passive::authenticate;
use ekyc_contract::{
    ChipSigner, ChipVerdict, ChipVerifyReply, ChipVerifyRequest, Code, Lang, Shape,
};

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
            state.check_api_key(&headers, Shape::Code, lang)?;
            let (sod, groups) = files_of(body, lang)?;
            let trust = state.csca.clone();
            // Signatures and hashes: a few milliseconds of a core, off the async threads.
            let verdict = tokio::task::spawn_blocking(move || {
                authenticate(&sod, &groups, &trust, SystemTime::now())
            })
            .await
            .map_err(|_| {
                reply(
                    Shape::Code,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Code::Internal,
                    "the check stopped",
                )
            })?;
            tracing::info!(status = verdict.status.as_str(), "chip checked");
            let reply = ChipVerifyReply {
                code: Code::Success.as_str(Shape::Code).to_owned(),
                message: lang.say("The chip was checked", "Đã kiểm tra chip"),
                computed_by: "engine".into(),
                passive_authentication: Some(ChipVerdict {
                    status: verdict.status.as_str().into(),
                    problems: verdict.problems,
                    groups_verified: verdict.groups_verified,
                    groups_signed: verdict.groups_signed,
                    signer: verdict.signer.map(|signer| ChipSigner {
                        subject: signer.subject,
                        issuer: signer.issuer,
                        serial: signer.serial,
                    }),
                }),
            };
            Ok(Json(reply).into_response())
        }
        .await,
    )
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
