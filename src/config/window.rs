//! The kiosk window's sections: `[ui]` (who stands at the kiosk, kiosk mode, time-outs, voice,
//! the result's thresholds), `[journey]` (what Welcome offers) and `[liveness]` (the
//! follow-the-dot challenge the kiosk runs).

use ekyc_contract::{KryptonAction, KryptonFlow, LivenessModel};
use ekyc_liveness::ChallengeThresholds;
use ekyc_settings::{section, ConfigError};
use serde::{Deserialize, Serialize};

/// Who stands at the kiosk: a customer alone, or a customer with a clerk who decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UiMode {
    /// Self-service: the result, then Finish.
    #[default]
    Kiosk,
    /// Staff-assisted (a clerk's desk): the result is reviewed and decided before Finish.
    Desk,
}

ekyc_settings::text_setting!(UiMode);

section! {
    /// The kiosk's window and screens.
    pub struct UiConfig {
        /// `kiosk` (self-service) or `desk` (a clerk decides each result).
        #[env = "EKYC_UI_MODE"]
        pub mode: UiMode = UiMode::Kiosk,
        /// Fullscreen, no window decorations, close refused outside staff mode. The
        /// packaged app's config turns it on; `--windowed` turns it off for one run.
        #[env = "EKYC_KIOSK_MODE"]
        pub kiosk_mode: bool = false,
        /// No touch for this long after Welcome (seconds, at least 10): "Do you need more
        /// time?", then a wipe.
        #[env = "EKYC_IDLE_TIMEOUT_SECS"]
        pub idle_timeout_secs: u64 = 60,
        /// How long "Do you need more time?" waits for an answer (seconds, at least 20,
        /// WCAG 2.2.1).
        #[env = "EKYC_MORE_TIME_SECS"]
        pub more_time_secs: u64 = 20,
        /// Spoken instructions in the UI language (`voice_command`, espeak-ng by default).
        #[env = "EKYC_VOICE"]
        pub voice: bool = false,
        /// The speech engine: a program and its arguments; `{voice}` becomes the language
        /// (`en`, `vi`); the text comes on its standard input.
        pub voice_command: Vec<String> = ["espeak-ng", "-v", "{voice}", "--stdin"]
            .map(String::from)
            .to_vec(),
        /// The result's values (name, ID number) are read aloud too. Off: a voice in a
        /// bank hall is heard by everyone near the kiosk.
        pub voice_reads_values: bool = false,
        /// OCR scores below this (percent) are flagged on the result screen.
        #[env = "EKYC_SCORE_THRESHOLD"]
        pub score_threshold: u32 = 80,
        /// Face-match similarity threshold (percent) shown with the similarity.
        #[env = "EKYC_FACE_MATCH_THRESHOLD"]
        pub face_match_threshold: u32 = 80,
    }
}

/// A journey's name in the configuration (Krypton's action, in lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JourneyName {
    /// A new customer: document and selfie.
    Enroll,
    /// A returning customer: who they are, then a selfie against their enrolment.
    Auth,
    /// A selfie with the liveness check only.
    Liveness,
}

ekyc_settings::text_setting!(JourneyName);

impl From<JourneyName> for KryptonAction {
    fn from(name: JourneyName) -> Self {
        match name {
            JourneyName::Enroll => Self::Enroll,
            JourneyName::Auth => Self::Auth,
            JourneyName::Liveness => Self::Liveness,
        }
    }
}

section! {
    /// Which journeys the kiosk offers, and how ENROLL runs.
    pub struct JourneyConfig {
        /// The journey Start begins: `enroll`, `auth` or `liveness`.
        #[env = "EKYC_JOURNEY"]
        pub action: JourneyName = JourneyName::Enroll,
        /// More journeys offered beside `action`: with any, the Welcome screen shows one
        /// button per journey (staff pick at a desk).
        pub journeys: Vec<JourneyName> = Vec::new(),
        /// ENROLL: `card_first` or `face_first`.
        #[env = "EKYC_JOURNEY_FLOW"]
        pub flow: KryptonFlow = KryptonFlow::CardFirst,
        /// ENROLL: keep the customer's face for a later AUTH, under the card's ID number
        /// (read from its QR code). Needs the local engine or a Krypton back end.
        #[env = "EKYC_KEEP_FACE"]
        pub keep_face: bool = false,
        /// AUTH tries that end with a face that does not match, in an hour, after which
        /// returning customers are asked to see a member of staff (AUTH in staff mode
        /// only): nobody can try number after number at the kiosk.
        #[env = "EKYC_AUTH_TRIES_PER_HOUR"]
        pub auth_tries_per_hour: u32 = 10,
    }
}

impl JourneyConfig {
    /// `action`, then the other journeys, each once.
    pub fn offered(&self) -> Vec<KryptonAction> {
        let mut offered = Vec::new();
        for name in std::iter::once(self.action).chain(self.journeys.iter().copied()) {
            let action = name.into();
            if !offered.contains(&action) {
                offered.push(action);
            }
        }
        offered
    }
}

section! {
    /// The follow-the-dot liveness challenge (`gaze`) or one selfie (`passive`), and what
    /// the kiosk's check of the challenge must reach.
    pub struct LivenessConfig {
        /// `gaze` (the challenge) or `passive` (one selfie: liveness is left to the back
        /// end, which our local engine cannot judge from one picture).
        #[env = "EKYC_LIVENESS_MODEL"]
        pub model: LivenessModel = LivenessModel::Gaze,
        /// How long the dot moves, 2000 to 8000 ms, after a one-second wait at its start
        /// (longer: the same path, slower, for customers who need the time).
        #[env = "EKYC_LIVENESS_CHALLENGE_MS"]
        pub challenge_ms: u64 = ekyc_liveness::challenge::DEFAULT_LENGTH.as_millis() as u64,
        /// The least correlation (0 to 1) between the dot's path and the customer's gaze.
        pub min_correlation: f32 = ChallengeThresholds::default().min_correlation,
        /// The least share (0 to 1) of the challenge in which a face was seen.
        pub min_coverage: f32 = ChallengeThresholds::default().min_coverage,
        /// The local engine's 3D check, under its older name: when set, it replaces
        /// `engine.min_parallax` (the least parallax, a share of the face's size, that
        /// tells a head from a picture).
        pub min_parallax: Option<f32> = None,
        /// Failed challenges before the customer is asked to see a member of staff (1–5).
        #[env = "EKYC_LIVENESS_ATTEMPTS"]
        pub attempts: u32 = 2,
    }
}

impl UiConfig {
    /// Checks the ranges; the key in the error is the section's own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| Err(ConfigError::invalid(key, message));
        if self.score_threshold > 100 || self.face_match_threshold > 100 {
            return invalid("score_threshold", "thresholds are percentages, 0 to 100");
        }
        if self.idle_timeout_secs < 10 {
            return invalid("idle_timeout_secs", "must be at least 10 seconds");
        }
        if self.more_time_secs < 20 {
            return invalid(
                "more_time_secs",
                "must be at least 20 seconds (WCAG 2.2.1: time to ask for more time)",
            );
        }
        if self.voice && self.voice_command.is_empty() {
            return invalid("voice_command", "names no program (voice = true needs one)");
        }
        Ok(())
    }
}

impl LivenessConfig {
    /// Checks the ranges; the key in the error is the section's own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| Err(ConfigError::invalid(key, message));
        if !(2000..=8000).contains(&self.challenge_ms) {
            return invalid(
                "challenge_ms",
                "must be between 2000 and 8000 (longer: a slower dot, for customers who need the time)",
            );
        }
        if !(0.3..=0.99).contains(&self.min_correlation) {
            return invalid("min_correlation", "must be between 0.3 and 0.99");
        }
        if !(0.3..=1.0).contains(&self.min_coverage) {
            return invalid("min_coverage", "must be between 0.3 and 1.0");
        }
        if self
            .min_parallax
            .is_some_and(|parallax| !(0.005..=0.2).contains(&parallax))
        {
            return invalid(
                "min_parallax",
                "must be between 0.005 and 0.2 (a share of the face's size)",
            );
        }
        if !(1..=5).contains(&self.attempts) {
            return invalid("attempts", "must be between 1 and 5");
        }
        Ok(())
    }

    /// What the kiosk's check of the challenge must reach.
    pub fn challenge_thresholds(&self) -> ChallengeThresholds {
        ChallengeThresholds {
            min_correlation: self.min_correlation,
            min_coverage: self.min_coverage,
        }
    }
}
