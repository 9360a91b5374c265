//! `POST /ocr`: admit, the document's headers, read uploads, read the card (and embed its
//! photo for the face match), record it in the session, reply.

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use image::DynamicImage;

use super::{
    answer, bad_request, decode_uploads, header, read_uploads, reply, run_blocking, Admitted,
    EngineState, Refusal,
};
use crate::script::ScriptedEndpoint;
use crate::sessions::CardFace;
use ekyc_contract::{Code, DocumentType, OcrField, OcrResult, Shape, Side};
use ekyc_reading::document::{read_document, read_document_and_portrait, CardReading};

const SHAPE: Shape = Shape::ErrorCode;

pub(super) async fn ocr(
    State(state): State<Arc<EngineState>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    answer(
        async {
            let admitted = state.admit(ScriptedEndpoint::Ocr, &headers, SHAPE).await?;
            check_reads_document(&admitted)?;
            let (document, side) = document_and_side(&headers, &admitted)?;
            let most = if side.is_some() || !document.has_back() {
                1
            } else {
                2
            };
            let uploads =
                read_uploads(multipart, "files", most, state.max_file_bytes, &admitted).await?;
            let images = decode_uploads(uploads, &admitted).await?;
            let (reading, card_face) = read_card(&state, document, side, images).await?;
            if reading.fields.is_empty() {
                return Err(document_not_found(&admitted));
            }
            state
                .visit(&admitted, move |session| {
                    session.document_read = true;
                    if side == Some(Side::Front) {
                        session.front_read = true;
                    }
                    if let Some(card_face) = card_face {
                        session.card_face = card_face;
                    }
                })
                .await?;
            Ok(Json(ocr_reply(reading).to_json()).into_response())
        }
        .await,
    )
}

/// A Krypton AUTH or LIVENESS session reads no document.
fn check_reads_document(admitted: &Admitted) -> Result<(), Refusal> {
    match admitted.seen.journey {
        Some(journey) if !journey.reads_document() => {
            let action = journey.action.as_str();
            Err(bad_request(
                SHAPE,
                admitted.lang,
                &format!("This is a Krypton {action} session: it reads no document"),
                &format!("Phiên Krypton {action} không đọc giấy tờ"),
            ))
        }
        _ => Ok(()),
    }
}

/// `document-type` and `side-type`, and the order of sides in the session.
fn document_and_side(
    headers: &HeaderMap,
    admitted: &Admitted,
) -> Result<(DocumentType, Option<Side>), Refusal> {
    let lang = admitted.lang;
    let document = header(headers, &["document-type", "document_type"])
        .and_then(DocumentType::parse)
        .ok_or_else(|| {
            bad_request(
                SHAPE,
                lang,
                "The document-type header must be idr, passport or dlr",
                "Header document-type phải là idr, passport hoặc dlr",
            )
        })?;
    let side = match header(headers, &["side-type", "side_type"]) {
        None => None,
        Some(text) => Some(Side::parse(text).ok_or_else(|| {
            bad_request(
                SHAPE,
                lang,
                "The side-type header must be front or back",
                "Header side-type phải là front hoặc back",
            )
        })?),
    };
    if side == Some(Side::Back) {
        if !document.has_back() {
            return Err(bad_request(
                SHAPE,
                lang,
                "A passport has no back side",
                "Hộ chiếu không có mặt sau",
            ));
        }
        if !admitted.seen.front_read {
            return Err(bad_request(
                SHAPE,
                lang,
                "Send the front side before the back side",
                "Cần gửi mặt trước trước mặt sau",
            ));
        }
    }
    Ok((document, side))
}

/// Reads the images (front first) and, when the front is among them, embeds the holder's
/// photo for the face match: `Some(CardFace::NoFace)` when the detector found none.
async fn read_card(
    state: &EngineState,
    document: DocumentType,
    side: Option<Side>,
    images: Vec<DynamicImage>,
) -> Result<(CardReading, Option<CardFace>), Refusal> {
    let ocr = state.ocr.clone();
    // The front (the first image unless only the back was sent) carries the photo the
    // selfie is matched against.
    let has_front = side != Some(Side::Back);
    let detector = state.faces.clone();
    let matcher = state.matcher.clone();
    run_blocking(SHAPE, "reading", move || {
        if !has_front {
            return (read_document(document, &images, ocr.as_ref()), None);
        }
        let (reading, portrait) =
            read_document_and_portrait(document, &images, ocr.as_ref(), detector.as_deref());
        let card_face = match (&matcher, &portrait, images.first()) {
            _ if reading.fields.is_empty() => None,
            (Some(matcher), Some(face), Some(front)) => Some(CardFace::Found(Box::new(
                matcher.embed_face(&front.to_rgb8(), face),
            ))),
            (Some(_), None, _) if detector.is_some() => Some(CardFace::NoFace),
            _ => None,
        };
        (reading, card_face)
    })
    .await
}

/// errorCode "3": nothing of the document was read.
fn document_not_found(admitted: &Admitted) -> Refusal {
    reply(
        SHAPE,
        StatusCode::OK,
        Code::DocumentNotFound,
        &admitted.lang.say(
            "The selected document was not found in the image",
            "Không tìm thấy tài liệu đã chọn trong ảnh",
        ),
    )
}

/// The reading in the contract's shape, each field with its `source`.
fn ocr_reply(reading: CardReading) -> OcrResult {
    let CardReading { fields, warning } = reading;
    OcrResult {
        fields: fields
            .into_iter()
            .map(|field| {
                let mut written = OcrField::new(field.key, field.label, field.value, field.score);
                written.source = Some(field.source);
                written
            })
            .collect(),
        warning,
    }
}
