//! How the command line spells the contract's values (`--document idr`, `--flow
//! card-first`): the contract itself knows nothing of the command line.

use clap::builder::PossibleValue;
use clap::builder::{PossibleValuesParser, TypedValueParser};

use ekyc_contract::{DocumentType, KryptonAction, KryptonFlow, Lang, LivenessModel, SessionType};

/// The command line's names for one contract enum, each with its help: a clap value parser
/// (the enums are the contract crate's, so they cannot implement clap's `ValueEnum`).
#[derive(Clone, Copy)]
pub struct Names<T: 'static>(&'static [(T, &'static str, &'static str)]);

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Names<T> {
    type Value = T;

    fn parse_ref(
        &self,
        command: &clap::Command,
        argument: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let names = PossibleValuesParser::new(self.possible());
        let name = names.parse_ref(command, argument, value)?;
        self.0
            .iter()
            .find(|(_, known, _)| *known == name)
            .map(|(member, _, _)| member.clone())
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(command))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.possible().into_iter()))
    }
}

impl<T> Names<T> {
    fn possible(&self) -> Vec<PossibleValue> {
        self.0
            .iter()
            .map(|(_, name, help)| PossibleValue::new(*name).help(*help))
            .collect()
    }
}

/// A contract enum's command-line names: `NAME: Names<Type> = { Member => "name": "help" }`.
macro_rules! command_line_names {
    ($constant:ident: $type:ident { $($member:ident => $name:literal: $help:literal),+ $(,)? }) => {
        #[doc = concat!("The command line's names for [`", stringify!($type), "`].")]
        pub const $constant: Names<$type> = Names(&[$(($type::$member, $name, $help)),+]);
    };
}

command_line_names!(DOCUMENT_TYPE: DocumentType {
    Idr => "idr": "identity card (CCCD / CMND)",
    Passport => "passport": "one data page, one image",
    Dlr => "dlr": "driver licence",
});

command_line_names!(LANG: Lang {
    En => "en": "English",
    Vi => "vi": "Vietnamese",
});

command_line_names!(KRYPTON_ACTION: KryptonAction {
    Enroll => "enroll": "onboard a new customer",
    Auth => "auth": "verify a returning customer's face against the enrolled one",
    Liveness => "liveness": "liveness only",
});

command_line_names!(SESSION_TYPE: SessionType {
    Enroll => "enroll": "enrolment of a face",
    Ocr => "ocr": "reading a document",
    Auth => "auth": "authentication against an enrolled face",
    Liveness => "liveness": "a liveness check",
});

command_line_names!(KRYPTON_FLOW: KryptonFlow {
    CardFirst => "card-first": "the document, then the face",
    FaceFirst => "face-first": "the face, then the document",
});

command_line_names!(LIVENESS_MODEL: LivenessModel {
    Gaze => "gaze": "the user follows a moving dot with the eyes",
    Passive => "passive": "one selfie",
});
