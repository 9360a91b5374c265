//! `ekyc-kiosk chip`: the card readers, and one chip read from a desk's command line:
//! `chip readers` lists them; `chip read` opens the chip with the MRZ's numbers, reads
//! it, checks it against the CSCA list and, with `--selfie`, matches that face with the
//! chip's photo. Exit 0 when the chip was read, whatever the verdict; 3 with one line on
//! standard error when it could not be; 2 for bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::chip::{match_with_photo, photo_pixels, read_and_check, trust_list, ChipOutcome};
use crate::config::LoadedConfig;
use ekyc_chip::lds::PhotoFormat;
use ekyc_chip::{Can, ChipKey, MrzKey};

#[derive(Debug, Subcommand)]
pub enum ChipCommand {
    /// The card readers plugged in now, one per line.
    Readers,
    /// Read a card's chip and check it (passive authentication against the CSCA list).
    Read(ChipReadArgs),
}

#[derive(Debug, Args)]
pub struct ChipReadArgs {
    /// Part of the reader's name (default: `chip.reader`; empty: the first with a card).
    #[arg(long, value_name = "NAME")]
    pub reader: Option<String>,
    /// The MRZ's document number (a CCCD's: the last 9 digits of its number).
    #[arg(long, value_name = "N", required_unless_present = "can")]
    pub document_number: Option<String>,
    /// The birth date as the MRZ prints it, YYMMDD.
    #[arg(long, value_name = "YYMMDD", required_unless_present = "can")]
    pub birth: Option<String>,
    /// The expiry date as the MRZ prints it, YYMMDD.
    #[arg(long, value_name = "YYMMDD", required_unless_present = "can")]
    pub expiry: Option<String>,
    /// The card's 6-digit CAN (on its front) instead of the MRZ: PACE only.
    #[arg(long, value_name = "NNNNNN", conflicts_with_all = ["document_number", "birth", "expiry"])]
    pub can: Option<String>,
    /// A CSCA certificate, folder or master list (repeatable; default: `chip.csca`).
    #[arg(long, value_name = "FILE")]
    pub csca: Vec<PathBuf>,
    /// A selfie to match with the chip's photo.
    #[arg(long, value_name = "FILE")]
    pub selfie: Option<PathBuf>,
    /// One JSON object (schema `ekyc-kiosk/chip/1`) instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: ChipCommand, loaded: &LoadedConfig) -> ExitCode {
    match command {
        ChipCommand::Readers => match crate::chip::reader::readers() {
            Ok(readers) => {
                for reader in readers {
                    println!("{reader}");
                }
                ExitCode::SUCCESS
            }
            Err(error) => fail(3, &error.to_string()),
        },
        ChipCommand::Read(args) => read(args, loaded),
    }
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

fn read(args: ChipReadArgs, loaded: &LoadedConfig) -> ExitCode {
    let key = match &args.can {
        Some(can) => ChipKey::Can(Can(can.clone())),
        None => ChipKey::Mrz(MrzKey {
            document_number: args.document_number.clone().unwrap_or_default(),
            birth: args.birth.clone().unwrap_or_default(),
            expiry: args.expiry.clone().unwrap_or_default(),
        }),
    };
    if let Err(error) = key.check() {
        return fail(2, &error.to_string());
    }
    let paths = if args.csca.is_empty() {
        loaded.config.chip.csca.clone()
    } else {
        args.csca.clone()
    };
    let trust = match trust_list(&paths) {
        Ok(trust) => trust,
        Err(error) => return fail(2, &error.to_string()),
    };
    let selfie = match &args.selfie {
        None => None,
        Some(path) => match std::fs::read(path)
            .map_err(|error| error.to_string())
            .and_then(|bytes| {
                ekyc_imaging::decode_upright(&bytes).map_err(|error| error.to_string())
            }) {
            Ok(image) => Some(image.to_rgb8()),
            Err(error) => return fail(2, &format!("the selfie {}: {error}", path.display())),
        },
    };
    let wanted = args
        .reader
        .clone()
        .unwrap_or_else(|| loaded.config.chip.reader.clone());
    let outcome = match read_and_check(&crate::chip::Pcsc, &wanted, &key, &trust, &mut |_| {}) {
        Ok(outcome) => outcome,
        Err(error) => return fail(3, &error.to_string()),
    };
    let face = selfie.map(|selfie| {
        photo_pixels(&outcome.read).and_then(|photo| match_with_photo(&photo, &selfie))
    });
    if args.json {
        println!("{}", report(&outcome, face.as_ref()));
    } else {
        print_text(&outcome, face.as_ref());
    }
    ExitCode::SUCCESS
}

/// The JSON report (schema `ekyc-kiosk/chip/1`).
fn report(
    outcome: &ChipOutcome,
    face: Option<&Result<crate::chip::FaceMatch, String>>,
) -> serde_json::Value {
    let read = &outcome.read;
    let verdict = &outcome.verdict;
    let dg13 = read.dg13.as_ref().map(|dg13| {
        json!({
            "id_number": dg13.id_number,
            "full_name": dg13.full_name,
            "date_of_birth": dg13.date_of_birth,
            "sex": dg13.sex,
            "nationality": dg13.nationality,
            "ethnicity": dg13.ethnicity,
            "religion": dg13.religion,
            "place_of_origin": dg13.place_of_origin,
            "place_of_residence": dg13.place_of_residence,
            "identifying_marks": dg13.identifying_marks,
            "date_of_issue": dg13.date_of_issue,
            "date_of_expiry": dg13.date_of_expiry,
            "father_name": dg13.father_name,
            "mother_name": dg13.mother_name,
            "old_id_number": dg13.old_id_number,
        })
    });
    json!({
        "schema": "ekyc-kiosk/chip/1",
        "reader": outcome.reader,
        "access": read.access.as_str(),
        "pace_offered": read.pace_offered,
        "pace_skipped": read.pace_skipped,
        "data_groups": read.files.groups.keys().collect::<Vec<_>>(),
        "mrz": {
            "document_number": read.mrz.document_number,
            "birth": read.mrz.birth,
            "expiry": read.mrz.expiry,
            "sex": read.mrz.sex,
            "issuer": read.mrz.issuer,
            "name": read.mrz.name,
            "optional": read.mrz.optional,
        },
        "dg13": dg13,
        "photo": read.photo.as_ref().map(|photo| json!({
            "format": match photo.format { PhotoFormat::Jpeg => "jpeg", PhotoFormat::Jpeg2000 => "jpeg2000" },
            "bytes": photo.bytes.len(),
        })),
        "active_authentication": {
            "status": read.active_authentication.as_str(),
            "reason": match &read.active_authentication {
                ekyc_chip::ActiveAuthentication::Failed(reason) => Some(reason.as_str()),
                _ => None,
            },
        },
        "chip_authentication": {
            "status": read.chip_authentication.as_str(),
            "reason": match &read.chip_authentication {
                ekyc_chip::ChipAuthentication::Failed(reason) => Some(reason.as_str()),
                _ => None,
            },
        },
        "passive_authentication": {
            "status": verdict.status.as_str(),
            "problems": verdict.problems,
            "groups_verified": verdict.groups_verified,
            "groups_signed": verdict.groups_signed,
            "signer": verdict.signer.as_ref().map(|signer| json!({
                "subject": signer.subject,
                "issuer": signer.issuer,
                "serial": signer.serial,
            })),
        },
        "face_match": face.map(|face| match face {
            Ok(face) => json!({"similarity": (face.similarity * 100.0).round() / 100.0, "is_match": face.is_match}),
            Err(error) => json!({"similarity": null, "is_match": null, "error": error}),
        }),
    })
}

fn print_text(outcome: &ChipOutcome, face: Option<&Result<crate::chip::FaceMatch, String>>) {
    let read = &outcome.read;
    let verdict = &outcome.verdict;
    println!("Reader:       {}", outcome.reader);
    println!("Access:       {}", read.access.as_str());
    let groups: Vec<String> = read
        .files
        .groups
        .keys()
        .map(|number| format!("DG{number}"))
        .collect();
    println!("Data groups:  {}", groups.join(" "));
    println!(
        "MRZ:          {} born {} expires {} ({})",
        read.mrz.document_number, read.mrz.birth, read.mrz.expiry, read.mrz.name
    );
    if let Some(dg13) = &read.dg13 {
        for (label, value) in [
            ("Full name", &dg13.full_name),
            ("ID number", &dg13.id_number),
            ("Date of birth", &dg13.date_of_birth),
            ("Sex", &dg13.sex),
            ("Place of origin", &dg13.place_of_origin),
            ("Residence", &dg13.place_of_residence),
            ("Issued", &dg13.date_of_issue),
            ("Expires", &dg13.date_of_expiry),
        ] {
            if let Some(value) = value {
                println!("{:<14}{value}", format!("{label}:"));
            }
        }
    }
    println!("Passive authentication: {}", verdict.status.as_str());
    match &read.active_authentication {
        ekyc_chip::ActiveAuthentication::Failed(reason) => {
            println!("Active authentication: failed ({reason})")
        }
        other => println!(
            "Active authentication: {}",
            other.as_str().replace('_', " ")
        ),
    }
    match &read.chip_authentication {
        ekyc_chip::ChipAuthentication::Failed(reason) => {
            println!("Chip authentication: failed ({reason})")
        }
        other => println!("Chip authentication: {}", other.as_str().replace('_', " ")),
    }
    for problem in &verdict.problems {
        println!("  - {problem}");
    }
    if let Some(signer) = &verdict.signer {
        println!(
            "Document Signer: {} (serial {})",
            signer.subject, signer.serial
        );
    }
    match face {
        None => {}
        Some(Ok(face)) => println!(
            "Face match:   {:.1} ({})",
            face.similarity,
            if face.is_match {
                "the same person"
            } else {
                "not the same person"
            }
        ),
        Some(Err(error)) => println!("Face match:   not measured: {error}"),
    }
}
