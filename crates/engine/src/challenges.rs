//! The follow-the-dot challenges the engine issued (`POST /liveness/challenge`) and not
//! yet answered: each path drawn from the engine's own random source, kept until the
//! frames that follow it come (`/face/liveness`, once: an answered challenge is
//! forgotten) or until it expires. Bounded: when the store is full even after forgetting
//! the expired ones, no new challenge is issued (503) rather than an outstanding one lost.
//!
//! Kept in the engine's memory, or in the database a bank's replicas share (the frames
//! may come to another replica than the one that issued the path): there a challenge is
//! a row keyed by its id's SHA-256, taken with `DELETE … RETURNING`, so that it is
//! answered once however many replicas are asked.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::kept::{lock, shared, Kept, Place};
use ekyc_liveness::challenge::{Segment, DEFAULT_LENGTH, DEFAULT_MOVES};
use ekyc_liveness::DotPath;

/// A challenge the engine issued.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The path the engine drew.
    pub path: DotPath,
    /// When it was issued.
    pub issued_at: Instant,
}

/// Why no challenge was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueProblem {
    /// As many challenges as the store holds are outstanding.
    Full,
    /// The OS gave no randomness (nothing is made up instead).
    NoRandomness(String),
    /// The shared database cannot be reached now (the reason, for IT).
    Unavailable(String),
}

/// All outstanding challenges: in memory ([`Kept::new`]) or in the shared database
/// ([`Kept::in_database`]).
pub type ChallengeStore = Kept<Issued>;

impl ChallengeStore {
    /// Draws a new path (the default moves and length) and keeps it: its id and path.
    /// Blocking when shared.
    pub fn issue(&self) -> Result<(String, DotPath), IssueProblem> {
        let mut path = DotPath::random(DEFAULT_MOVES, DEFAULT_LENGTH)
            .map_err(|error| IssueProblem::NoRandomness(error.to_string()))?;
        // Whole milliseconds, as the contract sends them: the path scored is the one shown.
        for segment in &mut path.segments {
            segment.moving = Duration::from_millis(segment.moving.as_millis() as u64);
            segment.dwell = Duration::from_millis(segment.dwell.as_millis() as u64);
        }
        let id = uuid::Uuid::new_v4().to_string();
        match &self.place {
            Place::Memory(issued) => {
                let mut issued = lock(issued);
                let ttl = self.ttl;
                issued.retain(|_, challenge| challenge.issued_at.elapsed() <= ttl);
                if issued.len() >= self.capacity {
                    return Err(IssueProblem::Full);
                }
                issued.insert(
                    id.clone(),
                    Issued {
                        path: path.clone(),
                        issued_at: Instant::now(),
                    },
                );
            }
            Place::Database(enrolments) => {
                let shared = shared(enrolments).map_err(IssueProblem::Unavailable)?;
                let (ttl, capacity) = (self.ttl.as_secs_f64(), self.capacity as i64);
                let full = shared
                    .database
                    .with(|client| {
                        let mut transaction = client.transaction()?;
                        transaction.execute(
                            "DELETE FROM ekyc_challenges \
                             WHERE issued_at < now() - make_interval(secs => $1)",
                            &[&ttl],
                        )?;
                        let outstanding: i64 = transaction
                            .query_one("SELECT count(*) FROM ekyc_challenges", &[])?
                            .get(0);
                        if outstanding < capacity {
                            transaction.execute(
                                "INSERT INTO ekyc_challenges (id, issued_at, path) \
                                 VALUES ($1, now(), $2)",
                                &[&id_hash(&id).as_slice(), &path_bytes(&path)],
                            )?;
                        }
                        transaction.commit()?;
                        Ok(outstanding >= capacity)
                    })
                    .map_err(IssueProblem::Unavailable)?;
                if full {
                    return Err(IssueProblem::Full);
                }
            }
        }
        Ok((id, path))
    }

    /// The challenge `id`, forgotten as it is handed over (answered once, across
    /// replicas too); `Ok(None)` when it is unknown, was answered already, or expired;
    /// `Err` when the shared database cannot be reached. Blocking when shared.
    pub fn take(&self, id: &str) -> Result<Option<Issued>, String> {
        match &self.place {
            Place::Memory(issued) => {
                let Some(challenge) = lock(issued).remove(id) else {
                    return Ok(None);
                };
                Ok((challenge.issued_at.elapsed() <= self.ttl).then_some(challenge))
            }
            Place::Database(enrolments) => {
                let taken = shared(enrolments)?.database.with(|client| {
                    Ok(client
                        .query_opt(
                            "DELETE FROM ekyc_challenges WHERE id = $1 \
                             RETURNING path, extract(epoch FROM now() - issued_at)::float8",
                            &[&id_hash(id).as_slice()],
                        )?
                        .map(|row| (row.get::<_, Vec<u8>>(0), row.get::<_, f64>(1))))
                })?;
                let Some((bytes, age)) = taken else {
                    return Ok(None);
                };
                let age = Duration::try_from_secs_f64(age.max(0.0)).unwrap_or(Duration::MAX);
                if age > self.ttl {
                    return Ok(None);
                }
                let path = path_of(&bytes)
                    .ok_or_else(|| "a challenge in the database does not read".to_owned())?;
                Ok(Some(Issued {
                    path,
                    issued_at: Instant::now().checked_sub(age).unwrap_or_else(Instant::now),
                }))
            }
        }
    }

    /// Challenges outstanding now (in the shared database: every replica's). Blocking
    /// when shared.
    pub fn outstanding(&self) -> Result<usize, String> {
        match &self.place {
            Place::Memory(issued) => Ok(lock(issued).len()),
            Place::Database(enrolments) => shared(enrolments)?.database.with(|client| {
                let outstanding: i64 = client
                    .query_one("SELECT count(*) FROM ekyc_challenges", &[])?
                    .get(0);
                Ok(usize::try_from(outstanding).unwrap_or(0))
            }),
        }
    }
}

/// What the database keys a challenge by (the id is the caller's to present).
fn id_hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// A path as the database keeps it: the start, then each move's target, its time and its
/// rest (whole milliseconds, as issued), little-endian.
fn path_bytes(path: &DotPath) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(8 + path.segments.len() * 16);
    for value in path.start {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    for segment in &path.segments {
        for value in segment.to {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        for time in [segment.moving, segment.dwell] {
            let ms = u32::try_from(time.as_millis()).unwrap_or(u32::MAX);
            bytes.extend_from_slice(&ms.to_le_bytes());
        }
    }
    bytes
}

/// The path [`path_bytes`] wrote; `None` for anything else.
fn path_of(bytes: &[u8]) -> Option<DotPath> {
    let words: Vec<[u8; 4]> = bytes
        .chunks_exact(4)
        .map(|word| word.try_into().unwrap_or([0; 4]))
        .collect();
    if !bytes.len().is_multiple_of(4) || words.len() < 2 || !(words.len() - 2).is_multiple_of(4) {
        return None;
    }
    let float = |word: [u8; 4]| f32::from_le_bytes(word);
    let ms = |word: [u8; 4]| Duration::from_millis(u64::from(u32::from_le_bytes(word)));
    Some(DotPath {
        start: [float(words[0]), float(words[1])],
        segments: words[2..]
            .chunks_exact(4)
            .map(|segment| Segment {
                to: [float(segment[0]), float(segment[1])],
                moving: ms(segment[2]),
                dwell: ms(segment[3]),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_is_answered_once_and_expires() {
        let store = ChallengeStore::new(Duration::from_millis(80), 10);
        let (id, path) = store.issue().unwrap();
        assert_eq!(store.take(&id).unwrap().unwrap().path, path);
        assert!(store.take(&id).unwrap().is_none(), "answered once");
        assert!(store.take("made-up").unwrap().is_none());
        let (late, _) = store.issue().unwrap();
        std::thread::sleep(Duration::from_millis(120));
        assert!(store.take(&late).unwrap().is_none(), "expired");
        assert_eq!(store.outstanding(), Ok(0));
    }

    #[test]
    fn a_full_store_issues_no_more_until_some_expire() {
        let store = ChallengeStore::new(Duration::from_millis(80), 2);
        let (first, _) = store.issue().unwrap();
        store.issue().unwrap();
        assert_eq!(store.issue().unwrap_err(), IssueProblem::Full);
        assert!(store.take(&first).unwrap().is_some());
        assert!(store.issue().is_ok(), "an answered one frees its place");
        std::thread::sleep(Duration::from_millis(120));
        assert!(store.issue().is_ok(), "expired ones are forgotten");
        assert_eq!(store.outstanding(), Ok(1));
    }

    #[test]
    fn a_path_reads_back_as_it_was_kept() {
        let store = ChallengeStore::new(Duration::from_secs(60), 4);
        let (_, path) = store.issue().unwrap();
        assert!(path.segments.len() > 1);
        assert_eq!(path_of(&path_bytes(&path)), Some(path.clone()));
        let bytes = path_bytes(&path);
        assert_eq!(path_of(&bytes[..bytes.len() - 4]), None, "a move cut short");
        assert_eq!(path_of(&bytes[..bytes.len() - 1]), None);
        assert_eq!(path_of(&[]), None);
    }
}
