//! A member of staff's decision on a verification (desk mode, or staff mode).

use serde::{Deserialize, Serialize};

/// Approve, reject or escalate, without the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approve,
    Reject,
    Escalate,
}

impl DecisionKind {
    pub const ALL: [Self; 3] = [Self::Approve, Self::Reject, Self::Escalate];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Escalate => "escalate",
        }
    }
}

/// Why a verification was rejected: the codes the bank's system receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    DocumentUnreadable,
    DocumentExpired,
    FaceMismatch,
    SuspectedFraud,
    CustomerWithdrew,
    /// With a note saying what.
    Other,
}

impl RejectReason {
    pub const ALL: [Self; 6] = [
        Self::DocumentUnreadable,
        Self::DocumentExpired,
        Self::FaceMismatch,
        Self::SuspectedFraud,
        Self::CustomerWithdrew,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DocumentUnreadable => "document_unreadable",
            Self::DocumentExpired => "document_expired",
            Self::FaceMismatch => "face_mismatch",
            Self::SuspectedFraud => "suspected_fraud",
            Self::CustomerWithdrew => "customer_withdrew",
            Self::Other => "other",
        }
    }
}

/// The decision as the bank's system receives it. The note is free text a clerk typed:
/// it goes in the report (sealed in the outbox), never in the attempt log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject {
        reason: RejectReason,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Escalate {
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
}

impl Decision {
    pub fn kind(&self) -> DecisionKind {
        match self {
            Self::Approve => DecisionKind::Approve,
            Self::Reject { .. } => DecisionKind::Reject,
            Self::Escalate { .. } => DecisionKind::Escalate,
        }
    }

    pub fn reason(&self) -> Option<RejectReason> {
        match self {
            Self::Reject { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    /// A rejection for "other" needs a note saying what.
    pub fn is_complete(&self) -> bool {
        match self {
            Self::Reject {
                reason: RejectReason::Other,
                note,
            } => note.as_deref().is_some_and(|note| !note.trim().is_empty()),
            _ => true,
        }
    }
}
