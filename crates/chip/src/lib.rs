//! The chip of an ICAO 9303 card, the CCCD's among them: opened with the key printed in
//! its MRZ ([`MrzKey`]) or its CAN ([`ChipKey`]), by PACE when the chip offers it, else
//! Basic Access Control, under secure messaging (ICAO 9303-11), its
//! files read ([`read_chip`]: EF.COM, EF.SOD, DG1, DG2, DG13, DG14, DG15, and active
//! authentication with DG15's key when the chip offers it), decoded
//! ([`lds`]: the MRZ, the holder's photo, the CCCD's personal data), and checked
//! ([`passive`]: the SOD's signature chained to a CSCA of the bank's trust list, every
//! data group's hash).
//!
//! The reader is behind [`Card`]: PC/SC in the kiosk, a software chip in the tests.
//! Nothing here logs what the chip holds; what is read is wiped when dropped.
//!
//! It may use no crate of the workspace: the engine and the kiosk both use it.
#![warn(missing_docs)]

pub mod card;
pub mod chip_auth;
pub mod lds;
pub mod passive;
pub mod read;
pub mod session;
pub mod sm;

pub use card::{Card, LinkError};
pub use chip_auth::ChipAuthentication;
pub use read::{read_chip, Access, ActiveAuthentication, ChipFiles, ChipRead, Progress};
pub use session::{Can, ChipError, ChipKey, MrzKey};
