//! `POST /session/init` (FPT.AI) and `POST /api/v3/ekyc` (Krypton v3): opening sessions.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{answer, header, lang_of, reply, EngineState};
use crate::contract::{Code, KryptonRequest, KryptonSessionReply, SessionInitReply, Shape};
use crate::engine::script::ScriptedEndpoint;

pub(super) async fn session_init(
    State(state): State<Arc<EngineState>>,
    headers: HeaderMap,
) -> Response {
    answer(
        async {
            if let Some(response) = state.scripted(ScriptedEndpoint::SessionInit).await {
                return Err(response);
            }
            let lang = lang_of(&headers);
            state.check_api_key(&headers, Shape::Code, lang)?;
            let device_type = state.device_type(&headers, Shape::Code, lang)?;
            let only_engine = header(&headers, &["only-engine", "only_engine"]) == Some("1");
            let session_id = state
                .sessions
                .create(device_type, only_engine)
                .ok_or_else(|| {
                    reply(
                        Shape::Code,
                        StatusCode::SERVICE_UNAVAILABLE,
                        Code::Busy,
                        &lang.say(
                            "Too many open sessions; try again shortly",
                            "Quá nhiều phiên đang mở; vui lòng thử lại sau",
                        ),
                    )
                })?;
            Ok(Json(SessionInitReply { session_id }.to_json()).into_response())
        }
        .await,
    )
}

pub(super) async fn krypton_session(
    State(state): State<Arc<EngineState>>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    if let Some(response) = state.scripted(ScriptedEndpoint::Krypton).await {
        return response;
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            return reply(
                Shape::Code,
                status,
                Code::parse(&status.as_u16().to_string()),
                &rejection.body_text(),
            );
        }
    };
    let request: KryptonRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return reply(
                Shape::Code,
                StatusCode::BAD_REQUEST,
                Code::BadRequest,
                &format!("invalid request: {error}"),
            )
        }
    };
    if let Err(problem) = request.validate() {
        return reply(
            Shape::Code,
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            &problem,
        );
    }
    let session_id = uuid::Uuid::new_v4().to_string();
    Json(KryptonSessionReply::created(&request, session_id)).into_response()
}
