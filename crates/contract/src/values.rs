//! The contract's named values: document types, sides, languages, and the OCR field keys.
//! Each has one spelling on the wire ([`WireName`]); the command line's spelling of them
//! lives in `cli`.

use serde::{Deserialize, Serialize};

/// A value with one name on the wire and a fixed list of members.
pub trait WireName: Sized + Copy + 'static {
    /// Every member, in the contract's order.
    const ALL: &'static [Self];

    /// The wire name.
    fn as_str(self) -> &'static str;

    /// The member named `text` (case and surrounding space ignored).
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|member| member.as_str().eq_ignore_ascii_case(text))
    }
}

/// The `document-type` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentType {
    /// `idr`: identity card (CCCD / CMND).
    Idr,
    /// `passport`: one data page, one image.
    Passport,
    /// `dlr`: driver licence.
    Dlr,
}

impl WireName for DocumentType {
    const ALL: &'static [Self] = &[Self::Idr, Self::Passport, Self::Dlr];

    fn as_str(self) -> &'static str {
        match self {
            Self::Idr => "idr",
            Self::Passport => "passport",
            Self::Dlr => "dlr",
        }
    }
}

impl DocumentType {
    /// The wire name (also through [`WireName`]).
    pub fn as_str(self) -> &'static str {
        WireName::as_str(self)
    }

    /// The type named `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        WireName::parse(text)
    }

    /// A passport is one page: it has no back side.
    pub fn has_back(self) -> bool {
        !matches!(self, Self::Passport)
    }
}

/// The `side-type` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The side with the photo; must be sent first.
    Front,
    /// The other side; only after the front in the same session.
    Back,
}

impl WireName for Side {
    const ALL: &'static [Self] = &[Self::Front, Self::Back];

    fn as_str(self) -> &'static str {
        match self {
            Self::Front => "front",
            Self::Back => "back",
        }
    }
}

impl Side {
    /// The wire name (also through [`WireName`]).
    pub fn as_str(self) -> &'static str {
        WireName::as_str(self)
    }

    /// The side named `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        WireName::parse(text)
    }
}

/// The `lang` header: the language of the back end's messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English (the contract's default).
    #[default]
    En,
    /// Vietnamese.
    Vi,
}

impl WireName for Lang {
    const ALL: &'static [Self] = &[Self::En, Self::Vi];

    fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Vi => "vi",
        }
    }
}

impl Lang {
    /// The wire name (also through [`WireName`]).
    pub fn as_str(self) -> &'static str {
        WireName::as_str(self)
    }

    /// The language named `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        WireName::parse(text)
    }

    /// The message in this language.
    pub fn say(self, english: &str, vietnamese: &str) -> String {
        match self {
            Self::En => english.to_owned(),
            Self::Vi => vietnamese.to_owned(),
        }
    }
}

/// The OCR field keys this project reads, writes or checks: one name per field, used by
/// the engine, the cross-check and the screens. A back end may send others; they are kept
/// as text in [`super::OcrField::key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKey {
    /// `ID`: the 12-digit personal identification number (a passport's number).
    Id,
    /// `Name`: the full name.
    Name,
    /// `Date of birth`, dd/mm/yyyy.
    DateOfBirth,
    /// `Sex`: "Nam" / "Nữ" on a CCCD.
    Sex,
    /// `Nationality`.
    Nationality,
    /// `Home`: place of origin.
    Home,
    /// `Address`: place of residence.
    Address,
    /// `Expired Date`, dd/mm/yyyy.
    ExpiredDate,
    /// `Features`: personal identification marks (the back).
    Features,
    /// `Issue Date`, dd/mm/yyyy (the back).
    IssueDate,
    /// `MRZ`: the machine-readable zone's lines.
    Mrz,
}

impl WireName for FieldKey {
    const ALL: &'static [Self] = &[
        Self::Id,
        Self::Name,
        Self::DateOfBirth,
        Self::Sex,
        Self::Nationality,
        Self::Home,
        Self::Address,
        Self::ExpiredDate,
        Self::Features,
        Self::IssueDate,
        Self::Mrz,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Id => "ID",
            Self::Name => "Name",
            Self::DateOfBirth => "Date of birth",
            Self::Sex => "Sex",
            Self::Nationality => "Nationality",
            Self::Home => "Home",
            Self::Address => "Address",
            Self::ExpiredDate => "Expired Date",
            Self::Features => "Features",
            Self::IssueDate => "Issue Date",
            Self::Mrz => "MRZ",
        }
    }
}

impl FieldKey {
    /// The wire name (also through [`WireName`]).
    pub fn as_str(self) -> &'static str {
        WireName::as_str(self)
    }

    /// The key named `text` (case ignored), if it is one of ours.
    pub fn parse(text: &str) -> Option<Self> {
        WireName::parse(text)
    }
}

impl std::fmt::Display for FieldKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Written as its wire name (`submit --json`'s `cross_check[].key`).
impl Serialize for FieldKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for FieldKey {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for FieldKey {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_reads_back_from_its_wire_name() {
        fn round_trip<T: WireName + PartialEq + std::fmt::Debug>() {
            for member in T::ALL {
                assert_eq!(T::parse(member.as_str()), Some(*member));
                assert_eq!(T::parse(&member.as_str().to_uppercase()), Some(*member));
            }
            assert_eq!(T::parse("no such value"), None);
        }
        round_trip::<DocumentType>();
        round_trip::<Side>();
        round_trip::<Lang>();
        round_trip::<FieldKey>();
    }

    #[test]
    fn field_keys_are_the_contract_samples_spelling() {
        assert_eq!(FieldKey::DateOfBirth, "Date of birth");
        assert_eq!(FieldKey::parse("expired date"), Some(FieldKey::ExpiredDate));
        assert_eq!(
            serde_json::to_value(FieldKey::IssueDate).unwrap(),
            "Issue Date"
        );
    }
}
