//! `POST /liveness/challenge` (ours, `docs/contract.md`): a follow-the-dot path drawn by
//! the engine, kept (`crate::challenges`) until the frames that follow it come to
//! `/face/liveness`, which scores the gaze against it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{answer, lang_of, on_kept, reply, EngineState};
use crate::challenges::IssueProblem;
use crate::script::ScriptedEndpoint;
use ekyc_contract::{ChallengeReply, Code, IssuedMove, IssuedPath, Shape};
use ekyc_liveness::DotPath;

pub(super) async fn liveness_challenge(
    State(state): State<Arc<EngineState>>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&headers);
    answer(
        async {
            if let Some(response) = state.scripted(ScriptedEndpoint::LivenessChallenge).await {
                return Err(response);
            }
            state.check_api_key(&headers, Shape::Code, lang)?;
            let issued_now = on_kept(
                &state.challenges,
                |challenges| challenges.issue(),
                IssueProblem::Unavailable,
            )
            .await;
            let (id, path) = issued_now.map_err(|problem| {
                let why = match problem {
                    IssueProblem::Full => "too many challenges are waiting for their frames",
                    IssueProblem::NoRandomness(_) => "the engine has no random source",
                    IssueProblem::Unavailable(why) => {
                        tracing::warn!("challenges unavailable: {why}");
                        "its database cannot be reached"
                    }
                };
                tracing::error!("no challenge issued: {why}");
                reply(
                    Shape::Code,
                    StatusCode::SERVICE_UNAVAILABLE,
                    Code::Busy,
                    &lang.say(
                        &format!("No challenge can be issued now: {why}"),
                        "Hiện không thể tạo thử thách, vui lòng thử lại",
                    ),
                )
            })?;
            let reply = ChallengeReply {
                code: Code::Success.as_str(Shape::Code).to_owned(),
                message: lang.say("Follow this path", "Hãy nhìn theo đường này"),
                challenge_id: Some(id),
                path: Some(issued(&path)),
                expires_in_s: Some(state.challenges.ttl().as_secs() as u32),
            };
            Ok(Json(reply).into_response())
        }
        .await,
    )
}

/// The path as the contract writes it.
fn issued(path: &DotPath) -> IssuedPath {
    IssuedPath {
        start: path.start,
        moves: path
            .segments
            .iter()
            .map(|segment| IssuedMove {
                to: segment.to,
                moving_ms: segment.moving.as_millis() as u32,
                dwell_ms: segment.dwell.as_millis() as u32,
            })
            .collect(),
    }
}
