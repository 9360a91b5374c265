//! The liveness challenge as the kiosk runs it: a random dot path for this attempt (the
//! back end's, asked for when the screen opens: [`PathRequest`]; the kiosk's own when the
//! back end issues none), the camera's frames while the dot moves (handed over on the
//! camera's thread as each is taken, whatever the screen's rate), and the kiosk's own
//! check of them. Each frame goes
//! to a worker thread as it arrives (face found, meshed, gaze measured, encoded for upload,
//! its pixels dropped), so that a long challenge does not hold every frame; when the dot
//! stops, the worker scores the gaze track against the path ([`ekyc_liveness::score`])
//! and hands over the [`ChallengeOutcome`]. Its times are the kiosk's clock's.

use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::DynamicImage;

use crate::camera::{ChallengeScene, Frame, FrameTap, Subscription};
use crate::clock::Clock;
use crate::flow::{ChallengeAdvice, ChallengeOutcome, ChallengeRecording, KioskLiveness};
use ekyc_client::{ApiError, ChallengeAnswer, FptClient, IssuedPath};
use ekyc_face::{FaceDetector, FaceMesh, FaceModels};
use ekyc_imaging::{prepare_decoded, ImageLimits, PreparedImage};
use ekyc_liveness::{
    challenge::DEFAULT_MOVES, gaze, score, ChallengeProblem, ChallengeThresholds, DotPath,
    GazeSample, Segment,
};

/// The `[liveness]` settings the kiosk's challenge runs with.
#[derive(Clone)]
pub struct ChallengeSetup {
    /// How long the dot moves.
    pub length: Duration,
    /// Failed tries before staff are asked for; `None`: no challenge (`passive`).
    pub attempts: Option<u32>,
    pub thresholds: ChallengeThresholds,
    /// The face models; without them the challenge still runs and its frames still go to
    /// the back end, but the kiosk cannot score it.
    pub faces: FaceModels,
    /// The back end each attempt's path is asked of (`/liveness/challenge`); `None`, or a
    /// back end without it: the kiosk draws the path itself.
    pub issuer: Option<FptClient>,
}

/// How long the challenge screen waits for the back end's path before the kiosk draws
/// its own (and the back end then cannot score the following).
pub const PATH_WAIT: Duration = Duration::from_millis(3000);

/// The back end's path for the next attempt, asked for as the challenge's screen opens.
pub(super) struct PathRequest {
    answer: std::sync::mpsc::Receiver<Result<(String, IssuedPath), ApiError>>,
    asked_at: Instant,
}

/// Where the next attempt's path comes from.
pub(super) enum PathSource {
    /// The back end has not answered yet.
    Waiting,
    /// The back end's: its id and path.
    Issued(String, DotPath),
    /// The kiosk's own (why, for the log).
    Kiosk(String),
}

impl PathRequest {
    /// Asks `issuer` on `runtime`; `wake` is called when the answer is in.
    pub(super) fn ask(
        issuer: &FptClient,
        runtime: &tokio::runtime::Handle,
        now: Instant,
        wake: impl Fn() + Send + 'static,
    ) -> Self {
        let (sender, answer) = std::sync::mpsc::channel();
        let issuer = issuer.clone();
        runtime.spawn(async move {
            let _ = sender.send(issuer.liveness_challenge().await);
            wake();
        });
        Self {
            answer,
            asked_at: now,
        }
    }

    /// The path to run, once there is one to run.
    pub(super) fn poll(&self, now: Instant) -> PathSource {
        match self.answer.try_recv() {
            Ok(Ok((id, path))) => PathSource::Issued(id, dot_path(&path)),
            Ok(Err(error)) => PathSource::Kiosk(error.to_string()),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                PathSource::Kiosk("the request was dropped".into())
            }
            Err(std::sync::mpsc::TryRecvError::Empty)
                if now.saturating_duration_since(self.asked_at) >= PATH_WAIT =>
            {
                PathSource::Kiosk(format!("no answer in {} s", PATH_WAIT.as_secs()))
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => PathSource::Waiting,
        }
    }
}

/// The back end's path (checked by the client: on the screen, a few seconds long) as
/// the dot follows it.
pub fn dot_path(issued: &IssuedPath) -> DotPath {
    DotPath {
        start: issued.start,
        segments: issued
            .moves
            .iter()
            .map(|step| Segment {
                to: step.to,
                moving: Duration::from_millis(u64::from(step.moving_ms)),
                dwell: Duration::from_millis(u64::from(step.dwell_ms)),
            })
            .collect(),
    }
}

/// The dot waits at its start this long before it moves: time to find it.
pub const LEAD_IN: Duration = Duration::from_millis(1000);
/// Frames closer together than this are not used (15 frames/s is enough for the eyes).
const MIN_FRAME_GAP: Duration = Duration::from_millis(66);
/// Most frames sent to the back end (evenly spaced over the challenge).
pub const MAX_UPLOAD_FRAMES: usize = 30;
/// A frame this dark on average (0–255) is why the face was not seen.
const DARK: f32 = 60.0;
/// A camera that gives no frame this long after the dot stopped: the recording ends
/// without it (the worker judges what it has).
const LATE_FRAME: Duration = Duration::from_millis(1000);

/// One attempt of the challenge, from the dot's appearance to its verdict. Dropping it
/// (the screen left) stops the recording; the worker still reports, and is ignored.
pub(super) struct ChallengeRun {
    path: DotPath,
    /// When the dot starts moving (after [`LEAD_IN`]).
    moving_from: Instant,
    /// The camera's frames, while they are recorded.
    recording: Option<Subscription>,
}

impl ChallengeRun {
    /// The back end's path (`issued`: its id and path), else a new random one, starting a
    /// [`LEAD_IN`] after `clock`'s now; a listener on
    /// `camera` handing the frames taken while the dot moves to the worker, which calls
    /// `done` with the verdict once the recording has ended (the first frame after the dot
    /// stopped). An error when the OS gives no randomness or no thread.
    pub(super) fn start(
        setup: &ChallengeSetup,
        camera: &FrameTap,
        clock: &Clock,
        limits: ImageLimits,
        issued: Option<(String, DotPath)>,
        done: impl FnOnce(ChallengeOutcome) + Send + 'static,
    ) -> Result<Self, String> {
        let (issued, path) = match issued {
            Some((id, path)) => (Some(id), path),
            None => (
                None,
                DotPath::random(DEFAULT_MOVES, setup.length).map_err(|error| error.to_string())?,
            ),
        };
        let moving_from = clock.now() + LEAD_IN;
        // Room for every frame the challenge keeps (15 a second, a little more for the
        // lead-in; 8 s at most): a worker slower than the camera (a debug build) catches
        // up after the dot stops.
        let room = ((setup.length + LEAD_IN).as_secs_f32() * 16.0).ceil() as usize;
        let (frames, received) = std::sync::mpsc::sync_channel::<Arc<Frame>>(room.max(64));
        let worker = Worker {
            path: path.clone(),
            issued,
            moving_from,
            detector: setup.faces.detector(),
            mesh: setup.faces.mesh(),
            thresholds: setup.thresholds,
            limits,
        };
        std::thread::Builder::new()
            .name("challenge".into())
            .spawn(move || done(worker.judge(received)))
            .map_err(|error| format!("cannot start the challenge's thread: {error}"))?;
        let recording =
            camera.subscribe(recorder(moving_from, moving_from + path.length(), frames));
        Ok(Self {
            path,
            moving_from,
            recording: Some(recording),
        })
    }

    /// What the demo camera is told to play.
    pub(super) fn scene(&self) -> ChallengeScene {
        ChallengeScene {
            path: self.path.clone(),
            started: self.moving_from,
        }
    }

    /// Where the dot is at `now`, as shares of the screen's width and height; `None` once
    /// it has stopped (the frames are being checked).
    pub(super) fn dot(&self, now: Instant) -> Option<[f32; 2]> {
        let at = now.saturating_duration_since(self.moving_from);
        (at <= self.path.length()).then(|| self.path.position(at))
    }

    /// Ends the recording when the camera has given no frame for [`LATE_FRAME`] after the
    /// dot stopped (unplugged, stalled): the worker then judges what it has, and the
    /// customer is not left waiting. Whether the recording may still be running.
    pub(super) fn end_recording_if_late(&mut self, now: Instant) -> bool {
        let ends_at = self.moving_from + self.path.length();
        if now > ends_at + LATE_FRAME {
            self.recording = None;
        }
        self.recording.is_some()
    }
}

/// The camera's listener for one challenge: the frames taken while the dot moves, at most
/// one per [`MIN_FRAME_GAP`], go to the worker; the first frame after the dot stopped ends
/// the recording (and drops `frames`, which tells the worker to judge).
fn recorder(
    moving_from: Instant,
    ends_at: Instant,
    frames: SyncSender<Arc<Frame>>,
) -> crate::camera::Listener {
    let mut last: Option<Instant> = None;
    Box::new(move |frame: &Arc<Frame>| {
        if frame.taken_at > ends_at {
            return false;
        }
        let spaced =
            last.is_none_or(|at| frame.taken_at.saturating_duration_since(at) >= MIN_FRAME_GAP);
        if spaced && frame.taken_at >= moving_from {
            last = Some(frame.taken_at);
            // Beyond the channel's room a frame is lost, never the camera's pace.
            let _ = frames.try_send(frame.clone());
        }
        true
    })
}

/// The challenge's worker thread.
struct Worker {
    path: DotPath,
    /// The back end's id for the path, sent with the frames.
    issued: Option<String>,
    moving_from: Instant,
    detector: Option<Arc<FaceDetector>>,
    mesh: Option<Arc<FaceMesh>>,
    thresholds: ChallengeThresholds,
    limits: ImageLimits,
}

/// One frame, measured and encoded.
struct Measured {
    /// When it was taken, after the dot started moving.
    at: Duration,
    upload: PreparedImage,
    gaze: Option<GazeSample>,
    brightness: f32,
}

impl Worker {
    /// Measures each frame as it arrives, then judges the whole.
    fn judge(self, frames: std::sync::mpsc::Receiver<Arc<Frame>>) -> ChallengeOutcome {
        let mut measured = Vec::new();
        for frame in frames {
            if let Some(one) = self.measure(&frame) {
                measured.push(one);
            }
        }
        self.verdict(measured)
    }

    fn measure(&self, frame: &Frame) -> Option<Measured> {
        let at = frame.taken_at.saturating_duration_since(self.moving_from);
        let gaze = match (&self.detector, &self.mesh) {
            (Some(detector), Some(mesh)) => detector
                .detect(&frame.image)
                .ok()
                .and_then(|faces| {
                    faces
                        .into_iter()
                        .max_by(|a, b| (a.width * a.height).total_cmp(&(b.width * b.height)))
                })
                .and_then(|face| mesh.landmarks(&frame.image, &face).ok())
                .and_then(|mesh| gaze(&mesh))
                .map(|gaze| GazeSample { at, gaze }),
            _ => None,
        };
        let brightness = mean_brightness(&frame.image);
        let upload = prepare_decoded(
            DynamicImage::ImageRgb8(frame.image.clone()),
            "frame.jpg",
            &self.limits,
        )
        .map_err(|error| tracing::warn!("a challenge frame was not encoded: {error}"))
        .ok()?;
        Some(Measured {
            at,
            upload,
            gaze,
            brightness,
        })
    }

    fn verdict(&self, measured: Vec<Measured>) -> ChallengeOutcome {
        if measured.is_empty() {
            tracing::warn!("liveness challenge: no frames arrived from the camera");
            return ChallengeOutcome::Failed(ChallengeAdvice::CameraProblem);
        }
        let models = self.detector.is_some() && self.mesh.is_some();
        let check = if models {
            let samples: Vec<GazeSample> = measured.iter().filter_map(|one| one.gaze).collect();
            let score = score(&self.path, &samples, self.thresholds);
            // For the operations log: figures, never a face.
            tracing::info!(
                frames = measured.len(),
                with_face = samples.len(),
                correlation = score.correlation,
                coverage = score.coverage,
                lag_ms = score.lag.as_millis() as u64,
                "liveness challenge scored"
            );
            match score.problem {
                None => KioskLiveness::Passed(score),
                Some(ChallengeProblem::DidNotFollow) => {
                    return ChallengeOutcome::Failed(ChallengeAdvice::FollowTheDot)
                }
                Some(ChallengeProblem::FaceNotSeen) => {
                    return ChallengeOutcome::Failed(face_not_seen(&measured, samples.len()))
                }
            }
        } else {
            tracing::info!("liveness challenge recorded, not scored here: no face models");
            KioskLiveness::NotScored
        };
        let sent = evenly_spaced(measured, MAX_UPLOAD_FRAMES);
        let engine_challenge = self.issued.clone().map(|id| ChallengeAnswer {
            id,
            times_ms: sent
                .iter()
                .map(|one| u32::try_from(one.at.as_millis()).unwrap_or(u32::MAX))
                .collect(),
        });
        ChallengeOutcome::Passed(ChallengeRecording {
            frames: sent.into_iter().map(|one| one.upload).collect(),
            engine_challenge,
            check,
        })
    }
}

/// Why too little of the challenge had a face: too few frames from the camera (a face in
/// most of them), the dark, or the face out of the picture.
fn face_not_seen(measured: &[Measured], with_face: usize) -> ChallengeAdvice {
    if with_face * 10 >= measured.len() * 7 {
        tracing::warn!(
            frames = measured.len(),
            "the camera gave too few frames to judge the challenge"
        );
        return ChallengeAdvice::CameraProblem;
    }
    let brightness = measured.iter().map(|one| one.brightness).sum::<f32>() / measured.len() as f32;
    if brightness < DARK {
        ChallengeAdvice::MoreLight
    } else {
        ChallengeAdvice::KeepFaceInFrame
    }
}

/// At most `most` of `items`, evenly spaced, first and last kept.
fn evenly_spaced<T>(items: Vec<T>, most: usize) -> Vec<T> {
    let count = items.len();
    if count <= most || most < 2 {
        return items.into_iter().take(most.max(count.min(1))).collect();
    }
    let wanted: Vec<usize> = (0..most).map(|k| k * (count - 1) / (most - 1)).collect();
    items
        .into_iter()
        .enumerate()
        .filter(|(index, _)| wanted.binary_search(index).is_ok())
        .map(|(_, item)| item)
        .collect()
}

/// The mean of a frame's grey levels, on every 8th pixel.
fn mean_brightness(image: &image::RgbImage) -> f32 {
    let (sum, count) = image
        .pixels()
        .step_by(8)
        .fold((0.0f32, 0u32), |(sum, count), pixel| {
            let [r, g, b] = pixel.0;
            (
                sum + 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b),
                count + 1,
            )
        });
    if count == 0 {
        0.0
    } else {
        sum / count as f32
    }
}

#[cfg(test)]
mod tests {
    use super::evenly_spaced;

    #[test]
    fn evenly_spaced_keeps_the_ends_and_the_count() {
        let picked = evenly_spaced((0..53).collect::<Vec<_>>(), 30);
        assert_eq!(picked.len(), 30);
        assert_eq!(picked.first(), Some(&0));
        assert_eq!(picked.last(), Some(&52));
        assert!(picked.windows(2).all(|pair| pair[1] > pair[0]));
        assert_eq!(evenly_spaced(vec![1, 2, 3], 30), vec![1, 2, 3]);
    }
}
