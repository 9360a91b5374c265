//! Liveness from several frames of a selfie (the challenge's frames, as the local engine
//! receives them in `/face/liveness`'s `selfies` parts): the face found in the first frame
//! and followed from frame to frame (looked for again where it was lost), meshed in each,
//! the 3D check ([`super::parallax`]) on the mesh's rigid points, the same
//! person in every frame (dlib's embeddings of a few frames against the first's), so
//! that a picture cannot be swapped in halfway, and the gaze scored against the dot's
//! path the engine issued ([`super::challenge::score`]), so that the kiosk's word that
//! the customer followed is not taken.

use image::RgbImage;

use std::time::Duration;

use super::challenge::{score, ChallengeScore, ChallengeThresholds, DotPath, GazeSample};
use super::face_depth::FaceDepth;
use super::gaze::gaze;
use super::parallax::{judge_following, Depth, ParallaxReport, ParallaxThresholds};
use super::rigid::RIGID_POINTS;
use ekyc_face::{Face, FaceDetector, FaceMatcher, FaceMesh};
use ekyc_imaging::decode_upright;

/// Frames beyond the first whose identity is checked (evenly spaced): each costs an
/// embedding.
const IDENTITY_FRAMES: usize = 4;

/// How sure the mesh must be that the face is still in the region it was followed into
/// (MediaPipe's `min_tracking_confidence`, 0.5 by default); below it, the face is looked
/// for again.
const TRACKING_PRESENCE: f32 = 0.5;

/// The mesh's point at the tip of the nose.
const NOSE_TIP: usize = 1;

/// The follow-the-dot challenge the frames answer, as the engine issued it.
#[derive(Debug, Clone, Copy)]
pub struct IssuedChallenge<'a> {
    /// The path the engine drew.
    pub path: &'a DotPath,
    /// Each frame's capture time after the dot started moving, for the frames after the
    /// first (the selfie).
    pub times: &'a [Duration],
    /// What the gaze's score must reach.
    pub thresholds: ChallengeThresholds,
}

/// What the frames showed.
#[derive(Debug, Clone, PartialEq)]
pub struct FramesVerdict {
    /// Frames received.
    pub frames: usize,
    /// Frames in which a face was found and meshed.
    pub frames_with_face: usize,
    /// The 3D check over them.
    pub parallax: ParallaxReport,
    /// Frames whose face was compared with the first frame's, and how many were the same
    /// person; `None` without the face-match models.
    pub same_person: Option<(usize, usize)>,
    /// The gaze against the issued path; `None`: no challenge was issued for these
    /// frames, so nobody scored whether the customer followed (never live).
    pub challenge: Option<ChallengeScore>,
    /// Live: a head (not flat, a face's depth), seen in most frames, the same person
    /// throughout (checked: without the face-match models, never live), following the
    /// dot the engine drew.
    pub is_live: bool,
    /// Not enough to judge (the face did not turn, was missing from many frames, or the
    /// same person could not be checked): a member of staff should look, or the customer
    /// try again.
    pub need_to_review: bool,
}

impl FramesVerdict {
    /// What was measured, in a sentence for the contract's `warning`: figures and verdicts,
    /// nothing of the face itself.
    pub fn summary(&self) -> String {
        let depth = match self.parallax.depth {
            Depth::Head => "a head",
            Depth::Flat => "flat, like a picture",
            Depth::Bent => {
                "not flat but without a face's depth, or not moving with its turns, like a bent \
                 picture"
            }
            Depth::NotEnoughMotion => "the face did not turn enough to tell",
        };
        let identity = match self.same_person {
            Some((same, checked)) => {
                format!("the same person in {same} of {checked} frames checked")
            }
            None => "the same person not checked (no face-match models), so not judged live: \
                     a member of staff should look"
                .to_owned(),
        };
        let challenge = match &self.challenge {
            Some(score) => format!(
                "the dot's path the engine drew: {} (correlation {:.2}, {:.0} % covered)",
                match score.problem {
                    None => "followed",
                    Some(super::ChallengeProblem::DidNotFollow) => "not followed",
                    Some(super::ChallengeProblem::FaceNotSeen) => "the face not seen enough",
                },
                score.correlation,
                100.0 * score.coverage
            ),
            None => "no challenge issued by the engine for these frames, so the \
                     following was not checked: not judged live"
                .to_owned(),
        };
        let following = match self.parallax.depth_following {
            Some([across, down]) => format!(
                " (moving with the dot's path: {:.1} % of the face's size per screen across, {:.1} % down)",
                100.0 * across,
                100.0 * down
            ),
            None => String::new(),
        };
        format!(
            "3D check on {} frames (a face in {}): parallax {:.1} % of the face's size, a face's own depth {:.1} %{following}, {depth}; {identity}; {challenge}",
            self.frames,
            self.frames_with_face,
            100.0 * self.parallax.parallax_figure,
            100.0 * self.parallax.face_depth_figure,
        )
    }
}

/// Judges the encoded `frames` (JPEG or PNG; the first is the selfie the card is matched
/// with), decoding one at a time so that a long challenge does not hold every frame's
/// pixels at once. A frame that does not decode counts as a frame without a face.
/// `challenge`: the path the frames after the first followed, and their times.
pub fn check_frames(
    frames: &[&[u8]],
    detector: &FaceDetector,
    mesh: &FaceMesh,
    matcher: Option<&FaceMatcher>,
    match_distance: f32,
    thresholds: ParallaxThresholds,
    challenge: Option<IssuedChallenge<'_>>,
) -> FramesVerdict {
    let later = frames.len().saturating_sub(1);
    let compared = later.min(IDENTITY_FRAMES);
    // The frames whose identity is compared with the first's, evenly spaced.
    let identity_frames: Vec<usize> = (1..=compared).map(|k| k * later / compared).collect();
    let mut tracks = Vec::new();
    let mut track_times: Vec<Option<Duration>> = Vec::new();
    let mut samples = Vec::new();
    let mut first_embedding = None;
    let mut same = 0;
    // The last frame's mesh: the next frame's face is followed from it rather than looked
    // for again (the detector cost a quarter of a frame's time).
    let mut previous: Option<ekyc_face::Mesh> = None;
    for (index, bytes) in frames.iter().enumerate() {
        let Ok(frame) = decode_upright(bytes).map(|image| image.to_rgb8()) else {
            previous = None;
            continue;
        };
        // The face is followed from the last frame's mesh while it stays in its region
        // (every frame's points from the same kind of region, as MediaPipe's own graphs
        // track); the detector looks for it in the first frame, when it was lost, and in
        // the frames whose identity is compared (the embedding is aligned on its box).
        let followed = previous
            .as_ref()
            .and_then(|last| mesh.follow(&frame, last).ok())
            .filter(|meshed| meshed.presence >= TRACKING_PRESENCE);
        let compared_here = matcher.is_some() && (index == 0 || identity_frames.contains(&index));
        let face = (compared_here || followed.is_none())
            .then(|| largest_face(detector, &frame))
            .flatten();
        // The face compared must be the face followed; when the detector's largest face
        // is another, its mesh is the one taken.
        let followed =
            followed.filter(|meshed| face.as_ref().is_none_or(|face| holds(face, meshed)));
        let meshed = followed.or_else(|| {
            face.as_ref()
                .and_then(|face| mesh.landmarks(&frame, face).ok())
        });
        if let Some(meshed) = &meshed {
            let at = index
                .checked_sub(1)
                .and_then(|later| challenge.and_then(|c| c.times.get(later)));
            if let (Some(&at), Some(gaze)) = (at, gaze(meshed)) {
                samples.push(GazeSample { at, gaze });
            }
            track_times.push(at.copied());
            tracks.push(
                RIGID_POINTS
                    .iter()
                    .map(|&i| [meshed.points[i][0], meshed.points[i][1]])
                    .collect::<Vec<[f32; 2]>>(),
            );
        }
        previous = meshed;
        if let (Some(matcher), Some(face)) = (matcher, &face) {
            if index == 0 {
                first_embedding = Some(matcher.embed_face(&frame, face));
            } else if identity_frames.contains(&index) {
                let embedding = matcher.embed_face(&frame, face);
                if first_embedding
                    .as_ref()
                    .is_some_and(|first| embedding.distance(first) < match_distance)
                {
                    same += 1;
                }
            }
        }
    }
    let frames_with_face = tracks.len();
    // The canonical face was read and checked when the mesh loaded; a face that had no
    // depth of its own would make every check "not a head" (never live), not a panic.
    let face =
        FaceDepth::from_canonical(&mesh.canonical().points).unwrap_or_else(FaceDepth::unknown);
    let challenge_score = challenge.map(|c| score(c.path, &samples, c.thresholds));
    // Where the face was turned in each frame: the dot it followed, as late as the score
    // found it followed.
    let turns: Vec<Option<[f32; 2]>> = match (challenge, &challenge_score) {
        (Some(issued), Some(score)) => track_times
            .iter()
            .map(|at| {
                let dot = issued.path.position(at.as_ref()?.saturating_sub(score.lag));
                Some([dot[0] - 0.5, dot[1] - 0.5])
            })
            .collect(),
        _ => Vec::new(),
    };
    let parallax = judge_following(&tracks, &turns, &face, thresholds);
    let same_person = matcher.map(|_| (same, compared));
    let mostly_seen = frames_with_face * 10 >= frames.len() * 7;
    let all_same = same_person.is_none_or(|(same, checked)| same == checked);
    // Without the identity check a picture could be swapped in halfway: not judged live,
    // left to a person.
    let identity_checked = same_person.is_some_and(|(_, checked)| checked > 0);
    let followed = challenge_score.is_some_and(|score| score.problem.is_none());
    let is_live =
        parallax.depth == Depth::Head && mostly_seen && all_same && identity_checked && followed;
    // Not enough to tell, rather than a failed check: a person should look (or the
    // customer try again with a challenge the engine issues).
    let need_to_review = !is_live
        && all_same
        && (parallax.depth == Depth::NotEnoughMotion
            || !mostly_seen
            || !identity_checked
            || challenge_score.is_none());
    FramesVerdict {
        frames: frames.len(),
        frames_with_face,
        parallax,
        same_person,
        challenge: challenge_score,
        is_live,
        need_to_review,
    }
}

/// Whether the detector's `face` and `meshed` are one face: the mesh's nose tip in the
/// box, the box's centre among the mesh's points.
fn holds(face: &Face, meshed: &ekyc_face::Mesh) -> bool {
    let [left, top, right, bottom] = meshed.bounds();
    let centre = face.centre();
    let Some(nose) = meshed.points.get(NOSE_TIP) else {
        return false;
    };
    (face.left..face.left + face.width).contains(&nose[0])
        && (face.top..face.top + face.height).contains(&nose[1])
        && (left..right).contains(&centre.x)
        && (top..bottom).contains(&centre.y)
}

fn largest_face(detector: &FaceDetector, frame: &RgbImage) -> Option<Face> {
    detector.detect(frame).ok().and_then(|found| {
        found
            .into_iter()
            .max_by(|a, b| (a.width * a.height).total_cmp(&(b.width * b.height)))
    })
}
