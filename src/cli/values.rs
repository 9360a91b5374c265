//! How the command line spells the contract's values (`--document idr`, `--flow
//! card-first`): the contract itself knows nothing of the command line.

use clap::builder::PossibleValue;
use clap::ValueEnum;

use crate::contract::{DocumentType, KryptonAction, KryptonFlow, Lang, LivenessModel, SessionType};

/// `impl ValueEnum` for a contract enum: each member with its command-line name and help.
macro_rules! command_line_names {
    ($type:ident { $($member:ident => $name:literal: $help:literal),+ $(,)? }) => {
        impl ValueEnum for $type {
            fn value_variants<'a>() -> &'a [Self] {
                &[$($type::$member),+]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(match self {
                    $($type::$member => PossibleValue::new($name).help($help)),+
                })
            }
        }
    };
}

command_line_names!(DocumentType {
    Idr => "idr": "identity card (CCCD / CMND)",
    Passport => "passport": "one data page, one image",
    Dlr => "dlr": "driver licence",
});

command_line_names!(Lang {
    En => "en": "English",
    Vi => "vi": "Vietnamese",
});

command_line_names!(KryptonAction {
    Enroll => "enroll": "onboard a new customer",
    Auth => "auth": "verify a returning customer's face against the enrolled one",
    Liveness => "liveness": "liveness only",
});

command_line_names!(SessionType {
    Enroll => "enroll": "enrolment of a face",
    Ocr => "ocr": "reading a document",
    Auth => "auth": "authentication against an enrolled face",
    Liveness => "liveness": "a liveness check",
});

command_line_names!(KryptonFlow {
    CardFirst => "card-first": "the document, then the face",
    FaceFirst => "face-first": "the face, then the document",
});

command_line_names!(LivenessModel {
    Gaze => "gaze": "the user follows a moving dot with the eyes",
    Passive => "passive": "one selfie",
});
