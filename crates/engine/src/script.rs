//! Scripted mode (`serve --script FILE`), for tests and staff training: canned answers
//! and faults per endpoint, used in order, one per request. When an endpoint's list runs
//! out, the engine answers for real again.
//!
//! ```toml
//! [[ocr]]                   # the first /ocr call gets an HTML 502 page
//! status = 502
//! content_type = "text/html"
//! body = "<html><body>Bad Gateway</body></html>"
//!
//! [[ocr]]                   # the second one waits 3 s, then the connection is dropped
//! delay_ms = 3000
//! drop_connection = true
//!
//! [[face_liveness]]         # the first two selfies are answered with a face mismatch
//! times = 2
//! body = '{"code": "303", "message": "face is not matching with document"}'
//! ```

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The endpoints a script can answer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptedEndpoint {
    /// `POST /session/init`.
    SessionInit,
    /// `POST /ocr`.
    Ocr,
    /// `POST /face/liveness`.
    FaceLiveness,
    /// `POST /api/v3/ekyc`.
    Krypton,
    /// `POST /chip/verify` (ours: a script's 404 plays a back end without it).
    ChipVerify,
    /// `POST /liveness/challenge` (ours: likewise).
    LivenessChallenge,
}

/// One canned answer or fault.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptStep {
    /// Wait this long before answering (or dropping).
    #[serde(default)]
    pub delay_ms: u64,
    /// HTTP status of the answer.
    #[serde(default = "default_status")]
    pub status: u16,
    /// The body as text.
    #[serde(default)]
    pub body: Option<String>,
    /// The body as bytes, for answers that are not UTF-8.
    #[serde(default)]
    pub body_bytes: Option<Vec<u8>>,
    /// `Content-Type` of the answer; `application/json` unless said.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Close the connection without a complete answer.
    #[serde(default)]
    pub drop_connection: bool,
    /// A `Retry-After` header, in seconds (with status 429 or 503).
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
    /// Use this step for this many requests in a row.
    #[serde(default = "default_times")]
    pub times: u32,
}

fn default_status() -> u16 {
    200
}

fn default_times() -> u32 {
    1
}

/// A whole script, as read from its TOML file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Answers to `/session/init`, in turn.
    #[serde(default)]
    pub session_init: Vec<ScriptStep>,
    /// Answers to `/ocr`, in turn.
    #[serde(default)]
    pub ocr: Vec<ScriptStep>,
    /// Answers to `/face/liveness`, in turn.
    #[serde(default)]
    pub face_liveness: Vec<ScriptStep>,
    /// Answers to `/api/v3/ekyc`, in turn.
    #[serde(default)]
    pub krypton: Vec<ScriptStep>,
    /// Answers to `/chip/verify`, in turn.
    #[serde(default)]
    pub chip_verify: Vec<ScriptStep>,
    /// Answers to `/liveness/challenge`, in turn.
    #[serde(default)]
    pub liveness_challenge: Vec<ScriptStep>,
}

/// A script that cannot be played; the message names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The file cannot be read.
    #[error("cannot read the script {}: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A problem in the file's text.
    #[error("script {}: {error}", path.display())]
    InFile {
        /// The file.
        path: std::path::PathBuf,
        /// The problem.
        error: Box<ScriptError>,
    },
    /// Bad TOML or an unknown key (toml's message, with the line).
    #[error("{0}")]
    Parse(String),
    /// A step's status that HTTP does not have.
    #[error("status {0} is not an HTTP status")]
    NotAStatus(u16),
    /// A step with both kinds of body.
    #[error("a step has either body or body_bytes, not both")]
    TwoBodies,
}

impl Script {
    /// Reads a script file.
    pub fn from_file(path: &Path) -> Result<Self, ScriptError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text).map_err(|error| ScriptError::InFile {
            path: path.to_path_buf(),
            error: Box::new(error),
        })
    }

    /// Reads a script from its TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ScriptError> {
        let script: Self =
            toml::from_str(text).map_err(|error| ScriptError::Parse(error.to_string()))?;
        for step in script.all_steps() {
            if StatusCode::from_u16(step.status).is_err() {
                return Err(ScriptError::NotAStatus(step.status));
            }
            if step.body.is_some() && step.body_bytes.is_some() {
                return Err(ScriptError::TwoBodies);
            }
        }
        Ok(script)
    }

    fn all_steps(&self) -> impl Iterator<Item = &ScriptStep> {
        self.session_init
            .iter()
            .chain(&self.ocr)
            .chain(&self.face_liveness)
            .chain(&self.krypton)
            .chain(&self.chip_verify)
            .chain(&self.liveness_challenge)
    }
}

/// The steps not used yet.
#[derive(Debug, Default)]
pub struct ScriptPlayer {
    queues: Mutex<[VecDeque<ScriptStep>; 6]>,
}

impl ScriptPlayer {
    /// Plays `script` from its first step.
    pub fn new(script: Script) -> Self {
        Self {
            queues: Mutex::new([
                script.session_init.into(),
                script.ocr.into(),
                script.face_liveness.into(),
                script.krypton.into(),
                script.chip_verify.into(),
                script.liveness_challenge.into(),
            ]),
        }
    }

    /// The next step for this endpoint, if the script has one left.
    pub fn next(&self, endpoint: ScriptedEndpoint) -> Option<ScriptStep> {
        let index = match endpoint {
            ScriptedEndpoint::SessionInit => 0,
            ScriptedEndpoint::Ocr => 1,
            ScriptedEndpoint::FaceLiveness => 2,
            ScriptedEndpoint::Krypton => 3,
            ScriptedEndpoint::ChipVerify => 4,
            ScriptedEndpoint::LivenessChallenge => 5,
        };
        // A poisoned lock only means another request panicked; the queue is still sound.
        let mut queues = self
            .queues
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let queue = &mut queues[index];
        let step = queue.front_mut()?;
        if step.times > 1 {
            step.times -= 1;
            return Some(step.clone());
        }
        queue.pop_front()
    }
}

/// Plays one step: waits, then answers or breaks the connection.
pub async fn play(step: ScriptStep) -> Response {
    tokio::time::sleep(Duration::from_millis(step.delay_ms)).await;
    if step.drop_connection {
        // A body that fails before its first byte makes the server abort the connection:
        // the client sees it close without a complete answer.
        let failing = futures_util::stream::once(async {
            Err::<axum::body::Bytes, _>(std::io::Error::other("scripted connection drop"))
        });
        return Response::new(Body::from_stream(failing));
    }
    let status = StatusCode::from_u16(step.status).unwrap_or(StatusCode::OK);
    let body = match (step.body, step.body_bytes) {
        (_, Some(bytes)) => Body::from(bytes),
        (Some(text), None) => Body::from(text),
        (None, None) => Body::empty(),
    };
    let content_type = step
        .content_type
        .unwrap_or_else(|| "application/json".to_owned());
    let mut response = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Some(seconds) = step.retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_used_in_order_and_repeated_as_asked() {
        let script = Script::from_toml(
            "[[ocr]]\nstatus = 502\ntimes = 2\n[[ocr]]\nstatus = 429\n[[session_init]]\nstatus = 500\n",
        )
        .unwrap();
        let player = ScriptPlayer::new(script);
        let statuses: Vec<_> = std::iter::from_fn(|| player.next(ScriptedEndpoint::Ocr))
            .map(|step| step.status)
            .collect();
        assert_eq!(statuses, [502, 502, 429]);
        assert!(player.next(ScriptedEndpoint::FaceLiveness).is_none());
        assert_eq!(
            player.next(ScriptedEndpoint::SessionInit).unwrap().status,
            500
        );
    }

    #[test]
    fn bad_scripts_are_refused_with_the_place() {
        let error = Script::from_toml("[[ocr]]\nstatuss = 502\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("statuss") && error.contains("line 2"),
            "{error}"
        );
        assert!(Script::from_toml("[[ocr]]\nstatus = 1000\n").is_err());
        assert!(Script::from_toml("[[nope]]\n").is_err());
    }
}
