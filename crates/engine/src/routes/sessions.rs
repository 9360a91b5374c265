//! `POST /session/init` (FPT.AI) and `POST /api/v3/ekyc` (Krypton v3): opening sessions.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{
    answer, enrolments_unavailable, header, lang_of, not_enrolled, reply, EngineState, Refusal,
};
use crate::script::ScriptedEndpoint;
use crate::sessions::Journey;
use ekyc_contract::{
    Code, KryptonAction, KryptonRequest, KryptonSessionReply, Lang, SessionInitReply, Shape,
};

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
            let device_type = device_type.to_owned();
            let session_id = state
                .open_session(lang, move |sessions| {
                    sessions.create(&device_type, only_engine)
                })
                .await?;
            Ok(Json(SessionInitReply { session_id }.to_json()).into_response())
        }
        .await,
    )
}

/// Opens a Krypton session: the request checked, the company id checked, the customer
/// hashed (and for AUTH, found enrolled), the session remembered with its journey.
pub(super) async fn krypton_session(
    State(state): State<Arc<EngineState>>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    if let Some(response) = state.scripted(ScriptedEndpoint::Krypton).await {
        return response;
    }
    let lang = lang_of(&headers);
    answer(
        async {
            let request = krypton_request(body)?;
            state.check_company_id(&request, lang)?;
            let journey = journey_of(&state, &request, lang).await?;
            let session_id = state
                .open_session(lang, move |sessions| sessions.create_for_journey(journey))
                .await?;
            tracing::info!(action = ?journey.action, flow = ?journey.flow, "Krypton session opened");
            Ok(Json(KryptonSessionReply::created(
                &request,
                session_id,
                state.base_url.clone(),
            ))
            .into_response())
        }
        .await,
    )
}

/// The body as the contract's request, valid; refused with code 400 and the reason.
fn krypton_request(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<KryptonRequest, Refusal> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        reply(
            Shape::Code,
            status,
            Code::parse(&status.as_u16().to_string()),
            &rejection.body_text(),
        )
    })?;
    let invalid = |problem: String| {
        reply(
            Shape::Code,
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            &problem,
        )
    };
    let request: KryptonRequest = serde_json::from_slice(&body)
        .map_err(|error| invalid(format!("invalid request: {error}")))?;
    request
        .validate()
        .map_err(|error| invalid(error.to_string()))?;
    Ok(request)
}

/// The session's journey. ENROLL and AUTH key their customer in the enrolment store; AUTH
/// is refused now, before any selfie, when the customer has no enrolment.
async fn journey_of(
    state: &EngineState,
    request: &KryptonRequest,
    lang: Lang,
) -> Result<Journey, Refusal> {
    let action = request.extra.action;
    let mut journey = Journey {
        action,
        flow: request.flow(),
        model: request.extra.model,
        customer: None,
    };
    if action == KryptonAction::Liveness {
        // A liveness check needs no customer: the id is not kept.
        return Ok(journey);
    }
    let store = state.enrolment_store(lang).await?;
    let user_id = request.extra.user_id.clone();
    // Whether an AUTH customer is enrolled is told now only when the engine is set to;
    // otherwise the selfie's answer says it, as a face that does not match.
    let look_up = action == KryptonAction::Auth && state.reveal_not_enrolled;
    let (customer, enrolled) = state
        .enrolment_call(Shape::Code, "looking up an enrolment", lang, move || {
            let customer = store.customer_hash(&user_id);
            let enrolled = if look_up {
                store.template(customer).map(|template| template.is_some())
            } else {
                Ok(true)
            };
            (customer, enrolled)
        })
        .await?;
    match enrolled {
        Ok(true) => {}
        Ok(false) => return Err(not_enrolled(lang)),
        Err(error) => return Err(enrolments_unavailable(&error.to_string(), lang)),
    }
    journey.customer = Some(customer);
    Ok(journey)
}
