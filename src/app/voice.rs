//! Spoken instructions (`ui.voice`): each screen's instruction said in the UI language by a
//! system speech engine (espeak-ng by default, which speaks Vietnamese) run as a child
//! process like Tesseract, the text on its standard input. What is being said stops when
//! the screen changes. What is said comes from [`crate::ui::spoken`]: never the result's
//! values unless `ui.voice_reads_values` is on.

use std::io::Write;
use std::process::{Child, Command, Stdio};

use ekyc_contract::Lang;

/// How to speak (`[ui]` `voice_command`, `voice_reads_values`).
#[derive(Debug, Clone)]
pub struct VoiceSetup {
    /// A program and its arguments; `{voice}` becomes the language's voice (`en`, `vi`).
    pub command: Vec<String>,
    /// The result's values are read too.
    pub reads_values: bool,
}

/// The speech engine's process, one at a time.
pub struct Voice {
    setup: VoiceSetup,
    speaking: Option<Child>,
    /// What was last asked for: the same text is not said twice in a row.
    last: Option<String>,
    /// The engine could not start once (logged once, then silent).
    broken: bool,
}

impl Voice {
    pub fn new(setup: VoiceSetup) -> Self {
        Self {
            setup,
            speaking: None,
            last: None,
            broken: false,
        }
    }

    pub fn reads_values(&self) -> bool {
        self.setup.reads_values
    }

    /// Says `text` in `lang`, cutting off what was being said; the same text as last time
    /// is not said again. `None`: stop talking (a screen with nothing to say).
    pub fn say(&mut self, lang: Lang, text: Option<String>) {
        if text == self.last {
            return;
        }
        self.stop();
        self.last = text.clone();
        let Some(text) = text else { return };
        let Some((program, arguments)) = self.setup.command.split_first() else {
            return;
        };
        let voice = match lang {
            Lang::En => "en",
            Lang::Vi => "vi",
        };
        let spawned = Command::new(program)
            .args(
                arguments
                    .iter()
                    .map(|argument| argument.replace("{voice}", voice)),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(mut child) => {
                if let Some(mut input) = child.stdin.take() {
                    // A few hundred bytes: the pipe takes them without waiting. Dropping
                    // `input` closes it, which starts the speech.
                    let _ = input.write_all(text.as_bytes());
                }
                self.speaking = Some(child);
            }
            Err(error) if !self.broken => {
                self.broken = true;
                tracing::warn!(
                    "voice prompts: the speech engine `{program}` could not start ({error}); \
                     install espeak-ng or set ui.voice_command"
                );
            }
            Err(_) => {}
        }
    }

    /// Stops what is being said, at once.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.speaking.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Voice {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_speech_engine_is_noted_once_and_the_kiosk_goes_on_silent() {
        let mut voice = Voice::new(VoiceSetup {
            command: vec!["/nonexistent/espeak-ng".into(), "--stdin".into()],
            reads_values: false,
        });
        voice.say(Lang::Vi, Some("Xin chào.".into()));
        assert!(voice.broken && voice.speaking.is_none());
        voice.say(Lang::En, Some("Hello.".into()));
        assert!(voice.speaking.is_none());
        voice.say(Lang::En, None);
    }

    #[test]
    fn the_same_words_are_not_said_twice_and_none_stops_the_speech() {
        let mut voice = Voice::new(VoiceSetup {
            command: vec!["sleep".into(), "30".into()],
            reads_values: false,
        });
        voice.say(Lang::En, Some("One.".into()));
        let first = voice.speaking.as_ref().map(Child::id).expect("speaking");
        voice.say(Lang::En, Some("One.".into()));
        assert_eq!(voice.speaking.as_ref().map(Child::id), Some(first));
        voice.say(Lang::En, None);
        assert!(voice.speaking.is_none());
        assert!(!std::path::Path::new(&format!("/proc/{first}")).exists());
    }
}
