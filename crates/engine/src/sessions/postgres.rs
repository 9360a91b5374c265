//! Sessions in the database a bank's replicas share: one row per session, keyed by the
//! SHA-256 of its id (the id is the caller's bearer token: the database does not hold
//! it), its state sealed with the session key and bound to that hash (a card's face, a
//! chip's face and the customer's hash are in it), its last use on the database's clock
//! (replicas' clocks may differ). A visit takes the row under `FOR UPDATE` for the length
//! of one change, so two replicas serving the same session take turns.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::{CardFace, ChipEvidence, EngineSession, Journey, OpenProblem, SessionProblem};
use crate::enrolments::{CustomerHash, SharedDatabase};
use ekyc_chip::passive::Status;
use ekyc_contract::{KryptonAction, KryptonFlow, LivenessModel};
use ekyc_face::{Embedding, EMBEDDING_SIZE};
use ekyc_secrets::Sealer;

/// Keeps a new session; [`OpenProblem::Full`] when `capacity` are open (counted after
/// expired ones are deleted).
pub(super) fn open(
    shared: &SharedDatabase,
    id: &str,
    session: &EngineSession,
    ttl: Duration,
    capacity: usize,
) -> Result<(), OpenProblem> {
    let key = id_hash(id);
    let sealed = seal(&shared.sessions, &key, session).map_err(OpenProblem::Unavailable)?;
    let capacity = i64::try_from(capacity).unwrap_or(i64::MAX);
    shared
        .database
        .with(|client| {
            let mut transaction = client.transaction()?;
            // Expired sessions go now: they may hold a face.
            transaction.execute(
                "DELETE FROM ekyc_sessions WHERE last_used < now() - make_interval(secs => $1)",
                &[&ttl.as_secs_f64()],
            )?;
            let open: i64 = transaction
                .query_one("SELECT count(*) FROM ekyc_sessions", &[])?
                .get(0);
            if open >= capacity {
                transaction.commit()?;
                return Ok(Err(OpenProblem::Full));
            }
            transaction.execute(
                "INSERT INTO ekyc_sessions (id, last_used, sealed) VALUES ($1, now(), $2)",
                &[&key.as_slice(), &sealed],
            )?;
            transaction.commit()?;
            Ok(Ok(()))
        })
        .map_err(OpenProblem::Unavailable)?
}

/// The session `id` for `device_type`, lent to `use_session` under the row's lock and
/// kept as it left it.
pub(super) fn with_session<T>(
    shared: &SharedDatabase,
    id: &str,
    device_type: &str,
    ttl: Duration,
    use_session: impl FnOnce(&mut EngineSession) -> T,
) -> Result<T, SessionProblem> {
    let key = id_hash(id);
    shared
        .database
        .with(|client| {
            let mut transaction = client.transaction()?;
            let Some(row) = transaction.query_opt(
                "SELECT sealed, now() - last_used > make_interval(secs => $2) \
                 FROM ekyc_sessions WHERE id = $1 FOR UPDATE",
                &[&key.as_slice(), &ttl.as_secs_f64()],
            )?
            else {
                return Ok(Err(SessionProblem::Unknown));
            };
            let (sealed, expired): (Vec<u8>, bool) = (row.get(0), row.get(1));
            let forget = "DELETE FROM ekyc_sessions WHERE id = $1";
            if expired {
                transaction.execute(forget, &[&key.as_slice()])?;
                transaction.commit()?;
                return Ok(Err(SessionProblem::Expired));
            }
            let Some(mut session) = unseal(&shared.sessions, &key, &sealed) else {
                tracing::warn!(
                    "a session in the database does not open with this replica's key \
                     (another key file, or altered): forgotten"
                );
                transaction.execute(forget, &[&key.as_slice()])?;
                transaction.commit()?;
                return Ok(Err(SessionProblem::Unknown));
            };
            if !session.bind(device_type) {
                return Ok(Err(SessionProblem::DeviceMismatch));
            }
            let answer = use_session(&mut session);
            let sealed = match seal(&shared.sessions, &key, &session) {
                Ok(sealed) => sealed,
                Err(error) => return Ok(Err(SessionProblem::Unavailable(error))),
            };
            transaction.execute(
                "UPDATE ekyc_sessions SET sealed = $2, last_used = now() WHERE id = $1",
                &[&key.as_slice(), &sealed],
            )?;
            transaction.commit()?;
            Ok(Ok(answer))
        })
        .map_err(SessionProblem::Unavailable)?
}

/// Sessions open now, every replica's.
pub(super) fn count(shared: &SharedDatabase, ttl: Duration) -> Result<usize, String> {
    shared.database.with(|client| {
        let open: i64 = client
            .query_one(
                "SELECT count(*) FROM ekyc_sessions \
                 WHERE now() - last_used <= make_interval(secs => $1)",
                &[&ttl.as_secs_f64()],
            )?
            .get(0);
        Ok(usize::try_from(open).unwrap_or(0))
    })
}

/// What the database keys a session by.
fn id_hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// A session's state as it is sealed: every field of [`EngineSession`] but its last use
/// (the row's, on the database's clock).
#[derive(Serialize, Deserialize)]
struct Stored {
    device_type: String,
    only_engine: bool,
    front_read: bool,
    document_read: bool,
    selfie_attempts: u32,
    card_face: StoredFace,
    journey: Option<StoredJourney>,
    chip: Option<StoredChip>,
}

#[derive(Serialize, Deserialize)]
enum StoredFace {
    NotChecked,
    NoFace,
    Found(Vec<f32>),
}

impl Drop for StoredFace {
    /// An embedding is personal: its copy here is wiped too.
    fn drop(&mut self) {
        if let StoredFace::Found(values) = self {
            values.zeroize();
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StoredJourney {
    action: KryptonAction,
    flow: KryptonFlow,
    model: LivenessModel,
    customer: Option<[u8; 32]>,
}

#[derive(Serialize, Deserialize)]
struct StoredChip {
    status: String,
    face: StoredFace,
}

impl StoredFace {
    fn of(face: &CardFace) -> Self {
        match face {
            CardFace::NotChecked => Self::NotChecked,
            CardFace::NoFace => Self::NoFace,
            CardFace::Found(embedding) => Self::Found(embedding.0.to_vec()),
        }
    }

    fn card_face(&self) -> Option<CardFace> {
        Some(match self {
            Self::NotChecked => CardFace::NotChecked,
            Self::NoFace => CardFace::NoFace,
            Self::Found(values) => {
                let values: [f32; EMBEDDING_SIZE] = values.as_slice().try_into().ok()?;
                CardFace::Found(Box::new(Embedding(values)))
            }
        })
    }
}

fn status_named(word: &str) -> Option<Status> {
    [Status::Valid, Status::Invalid, Status::Untrusted]
        .into_iter()
        .find(|status| status.as_str() == word)
}

/// The session sealed, bound to its id's hash.
fn seal(sealer: &Sealer, key: &[u8; 32], session: &EngineSession) -> Result<Vec<u8>, String> {
    let stored = Stored {
        device_type: session.device_type.clone(),
        only_engine: session.only_engine,
        front_read: session.front_read,
        document_read: session.document_read,
        selfie_attempts: session.selfie_attempts,
        card_face: StoredFace::of(&session.card_face),
        journey: session.journey.map(|journey| StoredJourney {
            action: journey.action,
            flow: journey.flow,
            model: journey.model,
            customer: journey.customer.map(|customer| customer.0),
        }),
        chip: session.chip.as_ref().map(|chip| StoredChip {
            status: chip.status.as_str().to_owned(),
            face: StoredFace::of(&chip.face),
        }),
    };
    let plaintext = Zeroizing::new(
        serde_json::to_vec(&stored).map_err(|error| format!("a session's state: {error}"))?,
    );
    sealer
        .seal(&plaintext, key)
        .map_err(|error| format!("sealing a session: {error}"))
}

/// The session sealed as [`seal`] does; `None` when it does not open (another key,
/// another id, altered) or does not read.
fn unseal(sealer: &Sealer, key: &[u8; 32], sealed: &[u8]) -> Option<EngineSession> {
    let plaintext = sealer.open(sealed, key)?;
    let stored: Stored = serde_json::from_slice(&plaintext).ok()?;
    let mut session = EngineSession::new(&stored.device_type, stored.only_engine, None);
    session.front_read = stored.front_read;
    session.document_read = stored.document_read;
    session.selfie_attempts = stored.selfie_attempts;
    session.card_face = stored.card_face.card_face()?;
    session.journey = stored.journey.as_ref().map(|journey| Journey {
        action: journey.action,
        flow: journey.flow,
        model: journey.model,
        customer: journey.customer.map(CustomerHash),
    });
    session.chip = match &stored.chip {
        Some(chip) => Some(ChipEvidence {
            status: status_named(&chip.status)?,
            face: chip.face.card_face()?,
        }),
        None => None,
    };
    Some(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_session_opens_as_it_was_and_only_for_its_id_and_key() {
        let sealer = Sealer::new(&[7; 32]);
        let mut session = EngineSession::new(
            "",
            false,
            Some(Journey {
                action: KryptonAction::Enroll,
                flow: KryptonFlow::CardFirst,
                model: LivenessModel::Gaze,
                customer: Some(CustomerHash([9; 32])),
            }),
        );
        assert!(session.bind("kiosk"));
        session.front_read = true;
        session.document_read = true;
        session.selfie_attempts = 2;
        let mut card = [0.0f32; EMBEDDING_SIZE];
        card.iter_mut()
            .enumerate()
            .for_each(|(i, value)| *value = i as f32 / 7.0 - 3.0);
        session.card_face = CardFace::Found(Box::new(Embedding(card)));
        session.chip = Some(ChipEvidence {
            status: Status::Untrusted,
            face: CardFace::NoFace,
        });
        let key = id_hash("a-session");
        let sealed = seal(&sealer, &key, &session).unwrap();

        let opened = unseal(&sealer, &key, &sealed).unwrap();
        assert_eq!(opened.device_type, "kiosk");
        assert!(!opened.only_engine && opened.front_read && opened.document_read);
        assert_eq!(opened.selfie_attempts, 2);
        assert_eq!(opened.journey, session.journey);
        match &opened.card_face {
            CardFace::Found(embedding) => assert_eq!(embedding.0, card),
            other => panic!("{other:?}"),
        }
        let chip = opened.chip.unwrap();
        assert_eq!(chip.status, Status::Untrusted);
        assert!(matches!(chip.face, CardFace::NoFace));
        // Nothing of the face in the sealed bytes, and only this id and key open them.
        let needle = serde_json::to_vec(&card[1]).unwrap();
        assert!(!sealed.windows(needle.len()).any(|window| window == needle));
        assert!(unseal(&sealer, &id_hash("another-session"), &sealed).is_none());
        assert!(unseal(&Sealer::new(&[8; 32]), &key, &sealed).is_none());
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(unseal(&sealer, &key, &altered).is_none());
    }
}
