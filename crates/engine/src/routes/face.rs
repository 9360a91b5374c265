//! `POST /face/liveness`: admit, check the session is ready, read the selfie, detect its
//! faces, take the attempt, decide (two faces, match, or not evaluated), reply.

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use image::RgbImage;

use super::{
    answer, bad_request, decode_uploads, enrolments_unavailable, header, not_enrolled,
    read_uploads, reply, run_blocking, Admitted, EngineState, Refusal, Seen,
};
use crate::script::ScriptedEndpoint;
use crate::sessions::{CardFace, ChipEvidence, Journey, SessionProblem};
use ekyc_contract::{
    Code, Enrolment, FaceMatch, FaceResult, KryptonAction, Lang, Liveness, LivenessModel, Shape,
};
use ekyc_face::{similarity, Embedding, Face, EMBEDDING_SIZE};

use crate::enrolments::CustomerHash;
use std::time::Duration;

use crate::challenges::Issued;
use ekyc_contract::challenge::{read_times, CHALLENGE_ID_HEADER, CHALLENGE_TIMES_HEADER};
use ekyc_liveness::{check_frames, ChallengeThresholds, IssuedChallenge};

const SHAPE: Shape = Shape::Code;

/// The most selfie frames one call takes: a challenge of 5 s at 15 frames/s is 75.
const MAX_SELFIE_FRAMES: usize = 90;

pub(super) async fn face_liveness(
    State(state): State<Arc<EngineState>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    answer(
        async {
            let admitted = state
                .admit(ScriptedEndpoint::FaceLiveness, &headers, SHAPE)
                .await?;
            let journey = check_ready(&state, &headers, &admitted).await?;
            let mut uploads = read_uploads(
                multipart,
                "selfies",
                MAX_SELFIE_FRAMES,
                state.max_file_bytes,
                &admitted,
            )
            .await?;
            // The first is the selfie matched with the card; all of them are the frames
            // liveness is judged on.
            let frames: Vec<axum::body::Bytes> =
                uploads.iter().map(|upload| upload.bytes.clone()).collect();
            let named = challenge_named(&headers, frames.len(), admitted.lang)?;
            uploads.truncate(1);
            let mut images = decode_uploads(uploads, &admitted).await?;
            let selfie = Arc::new(images.swap_remove(0).to_rgb8());
            let faces = detect_faces(&state, &selfie).await?;
            if faces.as_ref().is_some_and(Vec::is_empty) {
                // Not an attempt: the picture cannot be judged at all, so the customer
                // retakes it.
                return Err(no_face(admitted.lang));
            }
            let against = reference(&state, journey, admitted.lang).await?;
            let mut attempt = take_attempt(&state, &admitted, &against).await?;
            let chip = attempt.chip.take();
            // Two faces are answered with 407 and nothing else: no liveness to measure.
            let two_faces = faces.as_ref().is_some_and(|faces| faces.len() >= 2);
            let liveness = if two_faces {
                liveness_not_evaluated(TWO_FACES)
            } else {
                liveness(&state, frames, named, admitted.lang).await?
            };
            let (status, mut result, selfie_face) = decide(
                &state,
                faces,
                selfie,
                attempt,
                liveness,
                admitted.lang,
                &against,
            )
            .await?;
            if let Some(chip) = &chip {
                result.chip_face_match = Some(chip_face_match(
                    chip,
                    selfie_face.as_ref(),
                    state.match_distance,
                ));
            }
            if let Some(journey) = journey.filter(|journey| journey.action == KryptonAction::Enroll)
            {
                let chip_says = super::chip::chip_allows_enrolment(
                    chip.as_ref(),
                    result
                        .chip_face_match
                        .as_ref()
                        .and_then(|face_match| face_match.is_match),
                );
                enrol(
                    &state,
                    journey,
                    &mut result,
                    selfie_face,
                    chip_says,
                    admitted.lang,
                )
                .await?;
            }
            Ok((status, Json(result.to_json())).into_response())
        }
        .await,
    )
}

/// The `auto` header, and a session that read its document (when its journey reads one)
/// and takes more selfies. Returns the session's journey.
async fn check_ready(
    state: &EngineState,
    headers: &HeaderMap,
    admitted: &Admitted,
) -> Result<Option<Journey>, Refusal> {
    let lang = admitted.lang;
    if header(headers, &["auto"]).is_none() {
        return Err(bad_request(
            SHAPE,
            lang,
            "The auto header is required (False outside the vendor's SDK)",
            "Thiếu header auto",
        ));
    }
    let Seen {
        only_engine,
        document_read,
        selfie_attempts: attempts,
        journey,
        ..
    } = admitted.seen;
    if only_engine {
        return Err(bad_request(
            SHAPE,
            lang,
            "This session was opened for OCR only (only-engine)",
            "Phiên này chỉ dùng cho OCR (only-engine)",
        ));
    }
    if !document_read && journey.is_none_or(|journey| journey.reads_document()) {
        return Err(bad_request(
            SHAPE,
            lang,
            "Read the document (/ocr) in this session first",
            "Cần đọc giấy tờ (/ocr) trong phiên này trước",
        ));
    }
    if attempts >= state.selfie_attempts {
        return Err(bad_request(
            SHAPE,
            lang,
            "This session is complete; start a new one from the document",
            "Phiên đã hoàn tất; hãy bắt đầu lại từ giấy tờ",
        ));
    }
    Ok(journey)
}

/// What the selfie is matched with.
enum Reference {
    /// The face on the document read in this session (FPT.AI, Krypton ENROLL).
    Document,
    /// The customer's enrolled template (Krypton AUTH).
    Enrolment(Box<Embedding>),
    /// An AUTH customer without an enrolment: answered as an enrolled one whose face does
    /// not match, after the same work (see [`stand_in`]).
    NotEnrolled(CustomerHash),
    /// Nothing: a Krypton LIVENESS session checks liveness only.
    Nothing,
}

/// The session's reference face: for AUTH the customer's template, read now (no
/// enrolment: code 412 when the engine reveals it, else a stand-in that no face matches).
async fn reference(
    state: &EngineState,
    journey: Option<Journey>,
    lang: Lang,
) -> Result<Reference, Refusal> {
    let Some(journey) = journey else {
        return Ok(Reference::Document);
    };
    match (journey.action, journey.customer) {
        (KryptonAction::Enroll, _) => Ok(Reference::Document),
        (KryptonAction::Liveness, _) => Ok(Reference::Nothing),
        (KryptonAction::Auth, None) => Err(not_enrolled(lang)),
        (KryptonAction::Auth, Some(customer)) => {
            let store = state.enrolment_store(lang).await?;
            let template = state
                .enrolment_call(SHAPE, "reading an enrolment", lang, move || {
                    store.template(customer)
                })
                .await?;
            match template {
                Ok(Some(template)) => Ok(Reference::Enrolment(Box::new(template))),
                Ok(None) if state.reveal_not_enrolled => Err(not_enrolled(lang)),
                Ok(None) => Ok(Reference::NotEnrolled(customer)),
                Err(error) => {
                    tracing::error!("{error}");
                    Err(enrolments_unavailable(&error.to_string(), lang))
                }
            }
        }
    }
}

/// ENROLL with a customer: a selfie that matched the document and passed liveness (or
/// the bank chose the `passive` model, which the engine cannot judge), and matched the
/// chip's photo when the chip was read in the session (`chip_says`), becomes the
/// customer's template. The answer says whether it did, in `enrolment` (the local
/// engine's extension).
async fn enrol(
    state: &EngineState,
    journey: Journey,
    result: &mut FaceResult,
    selfie_face: Option<Embedding>,
    chip_says: Result<(), &'static str>,
    lang: Lang,
) -> Result<(), Refusal> {
    let Some(customer) = journey.customer else {
        return Ok(());
    };
    let matched = result
        .face_match
        .as_ref()
        .and_then(|face_match| face_match.is_match);
    let live = result
        .liveness
        .as_ref()
        .and_then(|liveness| liveness.is_live);
    let refused = match (matched, live, selfie_face) {
        (Some(true), Some(true), Some(face)) => Ok(face),
        (Some(true), None, Some(face)) if journey.model == LivenessModel::Passive => Ok(face),
        (Some(true), Some(false), _) => Err("the selfie did not pass liveness"),
        (Some(true), None, _) => Err("liveness was not evaluated"),
        (Some(false), _, _) => Err("the face does not match the document"),
        _ => Err("the face match was not evaluated"),
    };
    let enrolment = match refused.and_then(|face| chip_says.map(|()| face)) {
        Ok(face) => {
            let store = state.enrolment_store(lang).await?;
            let stored = state
                .enrolment_call(SHAPE, "enrolling", lang, move || {
                    store.enrol(customer, &face)
                })
                .await?;
            match stored {
                Ok(()) => {
                    tracing::info!("customer enrolled");
                    Enrolment {
                        enrolled: Some(true),
                        reason: None,
                    }
                }
                Err(error) => {
                    tracing::error!("{error}");
                    return Err(enrolments_unavailable(&error.to_string(), lang));
                }
            }
        }
        Err(why) => {
            tracing::info!(why, "customer not enrolled");
            Enrolment {
                enrolled: Some(false),
                reason: Some(why.into()),
            }
        }
    };
    result.enrolment = Some(enrolment);
    Ok(())
}

/// The selfie's faces; `None` when this engine has no detector.
async fn detect_faces(
    state: &EngineState,
    selfie: &Arc<RgbImage>,
) -> Result<Option<Vec<Face>>, Refusal> {
    let Some(detector) = state.faces.clone() else {
        return Ok(None);
    };
    let picture = selfie.clone();
    let found = run_blocking(SHAPE, "looking for faces", move || {
        detector.detect_thorough(&picture)
    })
    .await?;
    match found {
        Ok(faces) => Ok(Some(faces)),
        Err(error) => {
            tracing::error!("{error}");
            Err(reply(
                SHAPE,
                StatusCode::INTERNAL_SERVER_ERROR,
                Code::Internal,
                "face detection failed",
            ))
        }
    }
}

/// A counted selfie and what it is matched with.
struct Attempt {
    card_face: CardFace,
    /// The chip checked in the session, when one was.
    chip: Option<ChipEvidence>,
    /// This was the session's last selfie.
    complete: bool,
}

/// One visit to the session: count the attempt and take what the selfie is matched with.
/// A card photo without a face ends the session: the customer starts again from the card.
async fn take_attempt(
    state: &EngineState,
    admitted: &Admitted,
    against: &Reference,
) -> Result<Attempt, Refusal> {
    let most = state.selfie_attempts;
    let document = matches!(against, Reference::Document);
    let visit = state
        .session(
            &admitted.session_id,
            &admitted.device_type,
            move |session| {
                if document && matches!(session.card_face, CardFace::NoFace) {
                    // Nothing to match the selfie with: the session ends, the card goes again.
                    session.selfie_attempts = most;
                    session.card_face = CardFace::NotChecked;
                    return None;
                }
                session.selfie_attempts += 1;
                let complete = session.selfie_attempts >= most;
                // Complete: the session no longer keeps the chip photo's face either.
                let chip = if complete {
                    session.chip.take()
                } else {
                    session.chip.clone()
                };
                let card_face = if !document {
                    CardFace::NotChecked
                } else if complete {
                    // Complete: the session no longer keeps the card's face.
                    std::mem::take(&mut session.card_face)
                } else {
                    session.card_face.clone()
                };
                Some(Attempt {
                    card_face,
                    chip,
                    complete,
                })
            },
        )
        .await;
    match visit {
        Ok(Some(attempt)) => Ok(attempt),
        Ok(None) => Err(no_face_on_card(admitted.lang)),
        Err(SessionProblem::Unavailable(why)) => Err(super::session_problem(
            SessionProblem::Unavailable(why),
            admitted.shape,
            admitted.lang,
        )),
        // The session expired while the selfie was being read: this was its last one.
        Err(_) => Ok(Attempt {
            card_face: CardFace::NotChecked,
            chip: None,
            complete: true,
        }),
    }
}

/// The challenge the frames say they answer (headers `challenge-id`, `challenge-times`):
/// `None` when they name none; 400 when the times are not one number per frame after the
/// selfie, in order.
fn challenge_named(
    headers: &HeaderMap,
    frames: usize,
    lang: Lang,
) -> Result<Option<(String, Vec<Duration>)>, Refusal> {
    let Some(id) = header(headers, &[CHALLENGE_ID_HEADER]) else {
        return Ok(None);
    };
    let times = header(headers, &[CHALLENGE_TIMES_HEADER])
        .and_then(read_times)
        .filter(|times| times.len() + 1 == frames)
        .ok_or_else(|| {
            bad_request(
                SHAPE,
                lang,
                "challenge-times must give each frame's time after the selfie, in milliseconds, in order",
                "challenge-times phải ghi thời điểm của từng khung hình sau ảnh selfie (mili giây, theo thứ tự)",
            )
        })?;
    Ok(Some((
        id.to_owned(),
        times
            .into_iter()
            .map(|ms| Duration::from_millis(u64::from(ms)))
            .collect(),
    )))
}

/// What became of the challenge the frames named.
enum Answered {
    /// The engine's path and the frames' times: scored.
    Scored(Issued, Vec<Duration>),
    /// None was named, or the one named is unknown, answered already or expired: the
    /// reason.
    Unscored(&'static str),
}

/// Liveness from the selfie's frames: measured when there are several and the models are
/// installed, else "N/A" with the reason. The challenge named is taken (answered once)
/// here, once the selfie has been found fit to judge.
async fn liveness(
    state: &EngineState,
    frames: Vec<axum::body::Bytes>,
    named: Option<(String, Vec<Duration>)>,
    lang: Lang,
) -> Result<Liveness, Refusal> {
    if frames.len() < 2 {
        return Ok(liveness_not_evaluated(ONE_FRAME));
    }
    let (Some(detector), Some(mesh)) = (state.faces.clone(), state.mesh.clone()) else {
        return Ok(liveness_not_evaluated(NO_MESH_MODELS));
    };
    let answered = match named {
        None => Answered::Unscored(
            "no challenge named (POST /liveness/challenge, then its id with the frames)",
        ),
        Some((id, times)) => match state.take_challenge(id, SHAPE, lang).await? {
            None => {
                Answered::Unscored("the challenge named is unknown, answered already or expired")
            }
            Some(issued) => Answered::Scored(issued, times),
        },
    };
    let matcher = state.matcher.clone();
    let (match_distance, parallax) = (state.match_distance, state.parallax);
    let unscored = match &answered {
        Answered::Unscored(why) => Some(*why),
        Answered::Scored(..) => None,
    };
    let verdict = run_blocking(SHAPE, "checking liveness", move || {
        let frames: Vec<&[u8]> = frames.iter().map(|frame| frame.as_ref()).collect();
        let challenge = match &answered {
            Answered::Scored(issued, times) => Some(IssuedChallenge {
                path: &issued.path,
                times,
                thresholds: ChallengeThresholds::default(),
            }),
            Answered::Unscored(_) => None,
        };
        check_frames(
            &frames,
            &detector,
            &mesh,
            matcher.as_deref(),
            match_distance,
            parallax,
            challenge,
        )
    })
    .await?;
    // For the operations log: the verdict and its figures, never a face.
    tracing::info!(
        is_live = verdict.is_live,
        frames = verdict.frames,
        parallax = verdict.parallax.parallax_figure,
        face_depth = verdict.parallax.face_depth_figure,
        depth_following = ?verdict.parallax.depth_following,
        followed = verdict.challenge.map(|score| score.correlation),
        "liveness evaluated"
    );
    let warning = match unscored {
        Some(why) => format!("{}; {why}", verdict.summary()),
        None => verdict.summary(),
    };
    Ok(Liveness {
        code: Some("200".into()),
        message: Some(
            if verdict.is_live {
                "liveness check successful"
            } else {
                "liveness check failed"
            }
            .into(),
        ),
        is_live: Some(verdict.is_live),
        need_to_review: Some(verdict.need_to_review),
        warning: Some(warning),
        ..Liveness::default()
    })
}

/// The answer to a counted selfie: two faces (407), the match (200 or 303), or face match
/// not evaluated and why; with `liveness` as measured.
/// Also returns the selfie's face embedding when one was made (for ENROLL).
async fn decide(
    state: &EngineState,
    faces: Option<Vec<Face>>,
    selfie: Arc<RgbImage>,
    attempt: Attempt,
    liveness: Liveness,
    lang: Lang,
    against: &Reference,
) -> Result<(StatusCode, FaceResult, Option<Embedding>), Refusal> {
    let complete = attempt.complete;
    if let Some(count) = faces.as_ref().map(Vec::len).filter(|count| *count >= 2) {
        return Ok((StatusCode::OK, multiple_faces(count, complete), None));
    }
    let reference = match against {
        Reference::Enrolment(template) => CardFace::Found(template.clone()),
        // A customer without an enrolment goes the same way as one with: the template is a
        // stand-in, made from the selfie once its embedding is known (below).
        Reference::NotEnrolled(_) => CardFace::Found(Box::new(Embedding([0.0; EMBEDDING_SIZE]))),
        Reference::Document => attempt.card_face,
        Reference::Nothing => CardFace::NotChecked,
    };
    let unavailable = match (
        &state.matcher,
        faces.as_ref().and_then(|faces| faces.first()),
        reference,
    ) {
        _ if matches!(against, Reference::Nothing) => NOT_ASKED,
        (Some(matcher), Some(face), CardFace::Found(card)) => {
            let (matcher, face) = (matcher.clone(), face.clone());
            let embedded = run_blocking(SHAPE, "matching faces", move || {
                matcher.embed_face(&selfie, &face)
            })
            .await?;
            let card = match against {
                Reference::NotEnrolled(customer) => {
                    Box::new(stand_in(&embedded, customer, state.match_distance))
                }
                _ => card,
            };
            let distance = embedded.distance(&card);
            let enrolled = matches!(against, Reference::Enrolment(_) | Reference::NotEnrolled(_));
            let result = face_matched(
                distance,
                state.match_distance,
                complete,
                liveness,
                lang,
                enrolled,
            );
            return Ok((StatusCode::OK, result, Some(embedded)));
        }
        (None, _, _) => NO_MATCH_MODELS,
        (Some(_), None, _) => NO_FACE_DETECTOR,
        (Some(_), Some(_), _) => NO_CARD_PHOTO,
    };
    // Face match could not be evaluated: every result is "N/A", never a made-up number.
    Ok((
        StatusCode::OK,
        FaceResult {
            code: "200".into(),
            message: match liveness.is_live {
                None => lang.say(
                    "Selfie received; liveness and face match were not evaluated",
                    "Đã nhận ảnh chân dung; chưa đánh giá thực thể sống và so khớp khuôn mặt",
                ),
                Some(true) => lang.say(
                    "Live; face match was not evaluated",
                    "Là người thật; chưa so khớp khuôn mặt",
                ),
                Some(false) => lang.say(
                    "Not live; face match was not evaluated",
                    "Không phải người thật; chưa so khớp khuôn mặt",
                ),
            },
            liveness: Some(liveness),
            face_match: Some(FaceMatch {
                code: Some("200".into()),
                message: Some("face match not evaluated".into()),
                warning: Some(unavailable.into()),
                ..FaceMatch::default()
            }),
            is_complete_session: complete,
            ..FaceResult::default()
        },
        None,
    ))
}

/// The template an AUTH customer without an enrolment is matched against: the selfie's
/// own embedding moved a stranger's distance away (1.3 to 1.6 times the threshold), in a
/// direction drawn from the customer's keyed hash. The answer is then a face that does not
/// match, with a stranger's similarity, after the same work as for an enrolled customer:
/// nothing in it, nor its timing, tells the two apart.
fn stand_in(selfie: &Embedding, customer: &CustomerHash, threshold: f32) -> Embedding {
    // A small generator seeded by the hash: the same customer, the same direction.
    let mut seed = u64::from_le_bytes(customer.0[..8].try_into().unwrap_or([7; 8])) | 1;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0
    };
    let mut direction = [0.0f32; EMBEDDING_SIZE];
    for value in &mut direction {
        *value = next();
    }
    let norm = direction
        .iter()
        .map(|value| value * value)
        .sum::<f32>()
        .sqrt();
    let length = threshold * (1.3 + 0.3 * (next() + 1.0) / 2.0);
    let mut moved = selfie.0;
    for (value, step) in moved.iter_mut().zip(direction) {
        *value += step / norm.max(f32::EPSILON) * length;
    }
    Embedding(moved)
}

/// Why face match answered "N/A" (its `warning`).
const NOT_ASKED: &str = "Face match is not part of a Krypton LIVENESS session";
const NO_MATCH_MODELS: &str =
    "Face match unavailable: the face-match models are not installed on this engine (./fetch-models)";
const NO_FACE_DETECTOR: &str = "Face match unavailable: the selfie was not checked for faces \
    (the face detector model is not installed on this engine; ./fetch-models)";
const NO_CARD_PHOTO: &str =
    "Face match unavailable: the document's photo was not read in this session";

/// Why liveness answered "N/A" (its `warning`).
const ONE_FRAME: &str = "The local engine does not evaluate liveness on a single selfie: \
    it needs the frames of the follow-the-dot challenge";
const TWO_FACES: &str = "Two or more faces: liveness was not evaluated";
const NO_MESH_MODELS: &str = "Liveness unavailable: the face mesh models are not installed \
    on this engine (./fetch-models)";

/// Nothing measured, and so "N/A" throughout, with the reason.
fn liveness_not_evaluated(why: &str) -> Liveness {
    Liveness {
        code: Some("200".into()),
        message: Some("liveness not evaluated".into()),
        warning: Some(why.into()),
        ..Liveness::default()
    }
}

/// The contract's sample for two faces, with liveness honestly not evaluated.
fn multiple_faces(count: usize, complete: bool) -> FaceResult {
    let message = format!("{count} faces exist");
    FaceResult {
        code: Code::MultipleFaces.as_str(SHAPE).into(),
        message: message.clone(),
        liveness: Some(liveness_not_evaluated(TWO_FACES)),
        face_match: Some(FaceMatch {
            code: Some(Code::MultipleFaces.as_str(SHAPE).into()),
            message: Some(message),
            ..FaceMatch::default()
        }),
        is_complete_session: complete,
        ..FaceResult::default()
    }
}

/// The match itself, in the contract's shapes: code "200" with `isMatch` "true", or code
/// "303" with `isMatch` "false" (the contract's sample), `similarity` as a percentage
/// ([`similarity`]) and the local engine's `distance`.
/// `enrolled`: matched with the customer's enrolment (AUTH), not a document.
fn face_matched(
    distance: f32,
    threshold: f32,
    complete: bool,
    liveness: Liveness,
    lang: Lang,
    enrolled: bool,
) -> FaceResult {
    let matched = distance < threshold;
    // For the operations log: the verdict only, never the numbers of a face.
    tracing::info!(matched, "face match evaluated");
    let (code, message, match_message) = if matched {
        (
            Code::Success,
            match liveness.is_live {
                None => lang.say(
                    "Face matched; liveness was not evaluated",
                    "Khuôn mặt khớp với giấy tờ; chưa đánh giá thực thể sống",
                ),
                Some(true) => lang.say(
                    "Face matched; live",
                    "Khuôn mặt khớp với giấy tờ; là người thật",
                ),
                Some(false) => lang.say(
                    "Face matched; not live",
                    "Khuôn mặt khớp với giấy tờ; không phải người thật",
                ),
            },
            "face matching successful",
        )
    } else if enrolled {
        (
            Code::FaceMismatch,
            lang.say(
                "The face does not match the enrolled customer",
                "Khuôn mặt không khớp với khách hàng đã đăng ký",
            ),
            "face is not matching with the enrolled face",
        )
    } else {
        (
            Code::FaceMismatch,
            lang.say(
                "The face does not match the document",
                "Khuôn mặt không khớp với giấy tờ",
            ),
            "face is not matching with document",
        )
    };
    let code = code.as_str(SHAPE).to_owned();
    FaceResult {
        code: code.clone(),
        message,
        liveness: Some(liveness),
        face_match: Some(FaceMatch {
            code: Some(code),
            message: Some(match_message.into()),
            is_match: Some(matched),
            similarity: Some(similarity(distance, threshold)),
            distance: Some(distance),
            ..FaceMatch::default()
        }),
        is_complete_session: complete,
        ..FaceResult::default()
    }
}

/// The selfie matched with the chip's photo (the local engine's `chip_face_match`): the
/// same figures as `face_match`, or "not evaluated" and why.
fn chip_face_match(chip: &ChipEvidence, selfie: Option<&Embedding>, threshold: f32) -> FaceMatch {
    let not_evaluated = |why: &str| FaceMatch {
        code: Some("200".into()),
        message: Some("face match with the chip's photo not evaluated".into()),
        warning: Some(why.into()),
        ..FaceMatch::default()
    };
    match (&chip.face, selfie) {
        (CardFace::Found(photo), Some(selfie)) => {
            let distance = selfie.distance(photo);
            let matched = distance < threshold;
            tracing::info!(matched, "face matched with the chip's photo");
            FaceMatch {
                code: Some("200".into()),
                message: Some(
                    if matched {
                        "face matching with the chip's photo successful"
                    } else {
                        "face is not matching with the chip's photo"
                    }
                    .into(),
                ),
                is_match: Some(matched),
                similarity: Some(similarity(distance, threshold)),
                distance: Some(distance),
                ..FaceMatch::default()
            }
        }
        (CardFace::NoFace, _) => not_evaluated("no face was found on the chip's photo"),
        (CardFace::NotChecked, _) => not_evaluated(NO_MATCH_MODELS),
        (CardFace::Found(_), None) => not_evaluated("the selfie's face was not embedded"),
    }
}

/// No face on the card's photo: nothing to match with, so the session is complete and the
/// customer starts again from the card.
fn no_face_on_card(lang: Lang) -> Refusal {
    let message = lang.say(
        "No face was found on the document's photo; capture the front of the document again",
        "Không tìm thấy khuôn mặt trên ảnh của giấy tờ; hãy chụp lại mặt trước giấy tờ",
    );
    face_refused(message, "no face found on the document", true)
}

/// No face in the selfie: the customer takes it again (the attempt is not counted).
fn no_face(lang: Lang) -> Refusal {
    let message = lang.say(
        "No face was found in the selfie; take it again, looking at the camera",
        "Không tìm thấy khuôn mặt trong ảnh chân dung; hãy chụp lại, nhìn vào camera",
    );
    face_refused(message, "no face found", false)
}

/// A selfie refused before any match: HTTP 400 with code "400" (the contract has no code
/// for it), a message in the session's language, in the shape of the contract's face
/// answers.
fn face_refused(message: String, match_message: &str, complete: bool) -> Refusal {
    let code = Code::BadRequest.as_str(SHAPE);
    let result = FaceResult {
        code: code.into(),
        message,
        face_match: Some(FaceMatch {
            code: Some(code.into()),
            message: Some(match_message.into()),
            ..FaceMatch::default()
        }),
        is_complete_session: complete,
        ..FaceResult::default()
    };
    (StatusCode::BAD_REQUEST, Json(result.to_json())).into_response()
}
