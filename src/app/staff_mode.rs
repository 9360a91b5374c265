//! Staff mode and what staff do at the kiosk: the PIN pad that opens it (and the lockout
//! behind it), its time-out, the dashboard and the settings it shows, and the decision on
//! a result, required at a desk (`ui.mode = "desk"`), offered in staff mode.

use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::config::UiMode;
use crate::records::stats::Stats;
use crate::records::{AttemptLog, StateDb};
use crate::staff::pin::{PinGuard, PinOutcome};
use crate::staff::Decision;
use crate::ui::staff::{DecisionDraft, DecisionView, PinKey, PinPadView};

/// Staff mode as configured (`[staff]`, `ui.mode`, the capture preset).
pub struct StaffSetup {
    /// A customer alone, or a clerk who decides each result.
    pub mode: UiMode,
    /// The PIN's hash and its lockout.
    pub pin: PinGuard,
    /// Staff mode closes after this long without a touch.
    pub exit_after: Duration,
    /// The capture preset in force (staff may change it).
    pub preset: crate::quality::Preset,
}

impl Default for StaffSetup {
    fn default() -> Self {
        Self {
            mode: UiMode::Kiosk,
            pin: PinGuard::new(None, 5, Duration::from_secs(300)),
            exit_after: Duration::from_secs(120),
            preset: crate::quality::Preset::Normal,
        }
    }
}

/// The PIN pad while it shows: the digits typed (zeroed when it closes) and what it says.
struct PinPad {
    typed: Zeroizing<String>,
    message: Option<String>,
}

pub(super) struct StaffMode {
    pin: PinGuard,
    exit_after: Duration,
    /// Open, and since the last touch.
    open: bool,
    touched: Instant,
    pin_pad: Option<PinPad>,
    /// The dashboard, while open: today's figures and when they were read.
    dashboard: Option<(Instant, Stats)>,
    /// The settings are open.
    settings_open: bool,
    /// The capture preset in force.
    pub preset: crate::quality::Preset,
    /// Where the attempt log is read for the dashboard.
    state: Option<StateDb>,
}

impl StaffMode {
    pub fn new(setup: StaffSetup, state: Option<StateDb>) -> Self {
        Self {
            pin: setup.pin,
            exit_after: setup.exit_after,
            open: false,
            touched: Instant::now(),
            pin_pad: None,
            dashboard: None,
            settings_open: false,
            preset: setup.preset,
            state,
        }
    }

    /// Whether staff mode is open.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Whether its settings show (staff mode open).
    pub fn settings_open(&self) -> bool {
        self.settings_open && self.open
    }

    /// Opens or closes the settings (in staff mode only); the dashboard closes.
    pub fn show_settings(&mut self, open: bool) {
        self.dashboard = None;
        self.settings_open = open && self.open;
    }

    /// Ctrl+Alt+S or a long press on the title: the PIN pad, or leaving staff mode.
    pub fn chord(&mut self) {
        if self.open {
            self.leave("asked");
        } else {
            self.open_pin_pad();
        }
    }

    pub fn open_pin_pad(&mut self) {
        if !self.open && self.pin_pad.is_none() {
            self.pin_pad = Some(PinPad {
                typed: Zeroizing::new(String::new()),
                message: None,
            });
        }
    }

    pub fn leave(&mut self, why: &str) {
        if self.open {
            self.open = false;
            self.settings_open = false;
            self.dashboard = None;
            tracing::info!(why, "staff mode closed");
        }
    }

    /// Any touch while staff mode is open; it closes after `exit_after` without one. The
    /// time it has left, while open.
    pub fn tick(&mut self, touched: bool, now: Instant) -> Option<Duration> {
        if !self.open {
            return None;
        }
        if touched {
            self.touched = now;
        }
        let idle = now.saturating_duration_since(self.touched);
        if idle >= self.exit_after {
            self.leave("no touch");
            return None;
        }
        Some(self.exit_after - idle)
    }

    pub fn pin_pad_open(&self) -> bool {
        self.pin_pad.is_some()
    }

    pub fn pin_pad(&self, lang: ekyc_contract::Lang, now: Instant) -> Option<PinPadView> {
        let pad = self.pin_pad.as_ref()?;
        let locked = self.pin.locked_until(now);
        let message = if !self.pin.is_set() {
            Some(crate::ui::text(lang, "staff-pin-not-set"))
        } else if let Some(until) = locked {
            let minutes = until.saturating_duration_since(now).as_secs().div_ceil(60);
            Some(crate::ui::text_with(
                lang,
                "staff-pin-locked",
                &[("minutes", minutes.to_string())],
            ))
        } else {
            pad.message.clone()
        };
        Some(PinPadView {
            typed: pad.typed.len(),
            message,
            locked: locked.is_some() || !self.pin.is_set(),
        })
    }

    pub fn pin_key(&mut self, key: PinKey, lang: ekyc_contract::Lang, now: Instant) {
        let Some(pad) = &mut self.pin_pad else {
            return;
        };
        match key {
            PinKey::Digit(digit) if pad.typed.len() < 12 && digit < 10 => {
                pad.typed.push(char::from(b'0' + digit));
            }
            PinKey::Digit(_) => {}
            PinKey::Erase => {
                pad.typed.pop();
            }
            PinKey::Close => self.pin_pad = None,
            PinKey::Enter => match self.pin.try_pin(&pad.typed, now) {
                PinOutcome::Accepted => {
                    self.pin_pad = None;
                    self.open = true;
                    self.touched = now;
                }
                PinOutcome::Wrong { left } => {
                    pad.typed = Zeroizing::new(String::new());
                    pad.message = Some(crate::ui::text_with(
                        lang,
                        "staff-pin-wrong",
                        &[("left", left.to_string())],
                    ));
                }
                PinOutcome::Locked { .. } => {
                    pad.typed = Zeroizing::new(String::new());
                    pad.message = None;
                }
            },
        }
    }

    /// Opens (in staff mode) or closes the dashboard, its figures read now; the settings
    /// close.
    pub fn show_dashboard(&mut self, open: bool, log: Option<&AttemptLog>) {
        self.settings_open = false;
        self.dashboard = None;
        if open && self.open {
            self.dashboard = Some((Instant::now(), self.today(log)));
        }
    }

    /// Today's figures (UTC), the log's last records written first.
    fn today(&self, log: Option<&AttemptLog>) -> Stats {
        if let Some(log) = log {
            log.flush();
        }
        let midnight = crate::records::attempts::now_ms() / 86_400_000 * 86_400_000;
        let records = self
            .state
            .as_ref()
            .map(|state| crate::records::attempts::records_since(state, midnight))
            .transpose()
            .unwrap_or_else(|error| {
                tracing::warn!("dashboard: {error}");
                None
            })
            .unwrap_or_default();
        crate::records::stats::compute(&records)
    }

    /// The dashboard's figures while it is open in staff mode (read again every 10 s).
    pub fn dashboard(&mut self, now: Instant, log: Option<&AttemptLog>) -> Option<&Stats> {
        if !self.open {
            self.dashboard = None;
        }
        let stale = self.dashboard.as_ref().is_some_and(|(read, _)| {
            now.saturating_duration_since(*read) >= Duration::from_secs(10)
        });
        if stale {
            self.dashboard = Some((now, self.today(log)));
        }
        self.dashboard.as_ref().map(|(_, stats)| stats)
    }
}

/// The decision on the result: required at a desk, offered in staff mode.
pub(super) struct ResultDecision {
    mode: UiMode,
    pub draft: DecisionDraft,
    decided: Option<Decision>,
}

impl ResultDecision {
    pub fn new(mode: UiMode) -> Self {
        Self {
            mode,
            draft: DecisionDraft::default(),
            decided: None,
        }
    }

    /// The decision taken, if any.
    pub fn decided(&self) -> Option<&Decision> {
        self.decided.as_ref()
    }

    pub fn decide(&mut self, decision: Decision) {
        tracing::info!(decision = decision.kind().as_str(), "staff decision");
        self.decided = Some(decision);
    }

    /// The decision is shown on the result: always at a desk, in staff mode too.
    pub fn view<'a>(&'a self, staff_mode: bool, kiosk_id: &'a str) -> Option<DecisionView<'a>> {
        (self.mode == UiMode::Desk || staff_mode).then(|| DecisionView {
            draft: &self.draft,
            decided: self.decided.as_ref(),
            required: self.mode == UiMode::Desk,
            kiosk_id,
        })
    }

    /// Finish is refused at a desk before a decision.
    pub fn may_finish(&self) -> bool {
        self.mode != UiMode::Desk || self.decided.is_some()
    }

    /// The customer is gone.
    pub fn wipe(&mut self) {
        self.draft = DecisionDraft::default();
        self.decided = None;
    }
}
