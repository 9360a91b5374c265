//! A software chip for the tests: an ICAO 9303 eMRTD application that answers APDUs as
//! a card does ([`SoftChip`]): BAC from the card's side and secure messaging (9303-11),
//! SELECT and READ BINARY with a card's limits, and faults (pulled away after so many
//! commands, slow answers, a file altered after signing). Its files are made here
//! ([`lds`]: EF.COM, DG1, DG2, DG13 and an SOD signed by a Document Signer under a test
//! CSCA, [`pki`]), for the sample card ([`sample`]). [`vpcd`] joins it to Debian's virtual PC/SC reader, so the product
//! reads it through pcscd exactly as a USB reader's card.
//!
//! Written apart from `ekyc-chip`, sharing none of its code, so that each checks the
//! other; the ICAO worked examples check both.
#![allow(missing_docs)]

pub mod bac;
pub mod card;
pub mod chip_auth;
pub mod lds;
pub mod pace;
pub mod pki;
pub mod sample;
pub mod tlv;
pub mod vpcd;

pub use card::{Faults, SoftChip};
