//! What the voice says on each screen (`ui.voice`): the screen's title and its one
//! instruction, in the UI language, from the same texts the screen shows. Never the
//! result's values (a voice in a bank hall is heard by everyone near the kiosk) unless
//! staff turned `ui.voice_reads_values` on; never a back end's own words. Welcome says
//! nothing: the kiosk does not talk to an empty hall.

use std::time::Duration;

use super::{capture, chip, guidance, result, text_with, View};
use crate::flow::{Guidance, Screen};

/// The words for what `view` shows; `more_time`: the "Do you need more time?" question is
/// up, with this long to answer.
pub fn spoken(view: &View, more_time: Option<Duration>, reads_values: bool) -> Option<String> {
    if let Some(left) = more_time {
        let seconds = left.as_secs_f32().ceil() as u64;
        return Some(join(&[
            view.text("idle-title"),
            text_with(view.lang, "idle-body", &[("seconds", seconds.to_string())]),
        ]));
    }
    let parts = match view.flow.screen() {
        Screen::Welcome => return None,
        Screen::Identify => vec![view.text("identify-title"), view.text("identify-body")],
        Screen::Consent => [
            "consent-title",
            "consent-what",
            "consent-why",
            "consent-kept",
        ]
        .map(|id| view.text(id))
        .to_vec(),
        Screen::DocumentChoice => vec![view.text("document-title")],
        Screen::Capture(target) => vec![
            view.text(capture::title_id(*target)),
            view.text(capture::hint_id(*target)),
        ],
        Screen::Still(target) => vec![view.text(capture::still_question_id(*target))],
        Screen::Challenge => vec![
            view.text("challenge-title"),
            view.text("challenge-instruction"),
        ],
        Screen::Chip => {
            let status = view.chip.as_ref().map(|chip| chip::body_id(&chip.status));
            vec![
                view.text("chip-title"),
                view.text(status.unwrap_or("chip-place-card")),
            ]
        }
        Screen::Review => vec![view.text("review-title")],
        Screen::Submitting(_) => vec![view.text("submitting-title")],
        Screen::Result => {
            let flow_result = view.flow.result();
            let mut parts = vec![
                view.text("result-title"),
                result::verdict_text(view, flow_result).0,
            ];
            if reads_values {
                for field in &flow_result.fields {
                    parts.push(format!(
                        "{}: {}",
                        result::field_label(view, field),
                        field.value
                    ));
                }
            }
            parts
        }
        // The back end's message is its own (and in its own language): not read out.
        Screen::Guidance(Guidance::Rejected { .. }) => vec![view.text("guidance-rejected-spoken")],
        Screen::Guidance(shown) => vec![guidance::message(view, shown).0],
        Screen::BackendUnavailable => vec![
            view.text("backend-unavailable-title"),
            view.text("backend-unavailable-body"),
        ],
    };
    Some(join(&parts))
}

/// Sentences one after the other on one line (an MRZ's line breaks become spaces), each
/// ending in a full stop or question mark, so the speech engine pauses between them.
fn join(parts: &[String]) -> String {
    parts
        .iter()
        .map(|part| {
            let part = part.split_whitespace().collect::<Vec<_>>().join(" ");
            if part.ends_with(['.', '?', '!', ':', '…']) {
                part
            } else {
                format!("{part}.")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
