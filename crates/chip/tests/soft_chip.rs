//! The chip read and checked over the software chip (`ekyc-testchip`, written apart):
//! the ICAO 9303-11 worked example on the card's side, a genuine card, a CSCA not in the
//! list, a data group altered after signing, a wrong key, a card pulled away; and the
//! SOD checked by OpenSSL as well as by us.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

use std::collections::BTreeMap;
use std::time::SystemTime;

use ekyc_chip::passive::{authenticate, Status, TrustList, Verdict};
use ekyc_chip::{read_chip, ActiveAuthentication, Card, ChipError, LinkError, MrzKey};
use ekyc_testchip::lds::{data_groups, PhotoType};
use ekyc_testchip::pki::TestPki;
use ekyc_testchip::sample::{self, BIRTH, DOCUMENT, EXPIRY, ID};
use ekyc_testchip::{Faults, SoftChip};

/// The software chip on a reader: `None` from the card means it left.
struct OnReader(SoftChip);

impl Card for OnReader {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, LinkError> {
        self.0.process(command).ok_or(LinkError::Removed)
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
        .collect()
}

/// The sample card's chip signed under `pki`, and its data groups.
fn signed_chip(pki: &TestPki) -> (SoftChip, BTreeMap<u8, Vec<u8>>) {
    (sample::chip(pki), data_groups(&sample::holder()))
}

/// `chip` read on a reader, and checked against `trust`.
fn read_and_check(chip: SoftChip, trust: &TrustList) -> Verdict {
    check(
        &read_chip(&mut OnReader(chip), key(), &mut |_| {}).unwrap(),
        trust,
    )
}

/// Passive authentication of what was read, now.
fn check(read: &ekyc_chip::ChipRead, trust: &TrustList) -> Verdict {
    authenticate(
        &read.files.sod,
        &read.files.groups,
        trust,
        SystemTime::now(),
    )
}

/// One of the verdict's problems contains `words`.
fn assert_names(verdict: &Verdict, words: &str) {
    assert!(
        verdict
            .problems
            .iter()
            .any(|problem| problem.contains(words)),
        "{words:?} not in {:?}",
        verdict.problems
    );
}

fn key() -> MrzKey {
    MrzKey {
        document_number: DOCUMENT.into(),
        birth: BIRTH.into(),
        expiry: EXPIRY.into(),
    }
}

fn trusting(pki: &TestPki) -> TrustList {
    let mut list = TrustList::default();
    list.add_bytes(&pki.csca_der()).unwrap();
    list
}

/// ICAO 9303-11 Appendix D.3–D.4 on the software chip's side: given the example's
/// randomness, it takes the example's EXTERNAL AUTHENTICATE, answers the example's
/// E_IC || M_IC, and answers the protected SELECT of EF.COM with the example's bytes.
#[test]
fn the_software_chip_answers_the_icao_worked_example() {
    let files = BTreeMap::from([(
        0x011E,
        vec![0x60, 0x14, 0x5F, 0x01, 0x04, 0x30, 0x31, 0x30, 0x37],
    )]);
    let mut chip = SoftChip::new(files, "L898902C", "690806", "940623").with_randomness(
        hex("4608F91988702212").try_into().unwrap(),
        hex("0B4F80323EB3191CB04970CB4052790B").try_into().unwrap(),
    );
    assert_eq!(
        chip.process(&hex("00A4040C07A0000002471001")).unwrap(),
        hex("9000")
    );
    assert_eq!(
        chip.process(&hex("0084000008")).unwrap(),
        hex("4608F919887022129000")
    );
    let external = "0082000028".to_owned()
        + "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
        + "5F1448EEA8AD90A728";
    assert_eq!(
        chip.process(&hex(&external)).unwrap(),
        hex("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D74499000")
    );
    assert_eq!(
        chip.process(&hex(
            "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"
        ))
        .unwrap(),
        hex("990290008E08FA855A5D4C50A8ED9000")
    );
    // D.4's READ BINARY of EF.COM's first four bytes.
    assert_eq!(
        chip.process(&hex("0CB000000D9701048E08ED6705417E96BA5500"))
            .unwrap(),
        hex("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000")
    );
}

#[test]
fn a_genuine_chip_is_read_whole_and_valid_under_its_csca() {
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let (chip, groups) = signed_chip(&pki);
    let mut card = OnReader(chip);
    let mut seen = Vec::new();
    let read = read_chip(&mut card, key(), &mut |progress| {
        seen.push(progress.clone())
    })
    .unwrap();
    assert_eq!(read.access.as_str(), "BAC");
    // What the chip holds never shows in a log line or a panic's message.
    let shown = format!("{read:?}");
    for personal in [ID, DOCUMENT, sample::FULL_NAME, "PHAM", "931105"] {
        assert!(!shown.contains(personal), "{personal} in {shown}");
    }
    assert_eq!(
        read.active_authentication,
        ActiveAuthentication::NotOffered,
        "no DG15"
    );
    for (number, content) in &groups {
        let got = &read.files.groups[number];
        let first = got.iter().zip(content).position(|(a, b)| a != b);
        assert!(
            got == content,
            "DG{number} read differs: {} bytes for {}, first difference at {first:?}",
            got.len(),
            content.len()
        );
    }
    assert_eq!(read.mrz.document_number, DOCUMENT);
    assert_eq!(
        (read.mrz.birth.as_str(), read.mrz.expiry.as_str()),
        (BIRTH, EXPIRY)
    );
    assert_eq!(read.mrz.name, "PHAM THI HONG NHUNG");
    assert!(read.mrz.optional.starts_with(ID));
    let dg13 = read.dg13.as_ref().unwrap();
    assert_eq!(dg13.full_name.as_deref(), Some(sample::FULL_NAME));
    assert_eq!(dg13.id_number.as_deref(), Some(ID));
    assert_eq!(dg13.father_name.as_deref(), Some("Nguyễn Văn An"));
    assert_eq!(dg13.mother_name.as_deref(), Some("Trần Thị Bình"));
    assert_eq!(dg13.old_id_number.as_deref(), Some("272345678"));
    assert_eq!(dg13.date_of_expiry.as_deref(), Some("05/11/2033"));
    let photo = read.photo.as_ref().unwrap();
    assert_eq!(
        photo.bytes,
        sample::photo(),
        "DG2's photo is the JPEG that went in"
    );
    // DG2 came in many chunks, the progress counting up to its length.
    let dg2: Vec<_> = seen
        .iter()
        .filter(|progress| progress.file == "DG2")
        .collect();
    assert!(dg2.len() > 10, "{} steps", dg2.len());
    assert!(dg2.windows(2).all(|pair| pair[0].read < pair[1].read));
    assert_eq!(dg2.last().map(|last| last.read), Some(groups[&2].len()));
    let verdict = check(&read, &trusting(&pki));
    assert_eq!(verdict.status, Status::Valid, "{:?}", verdict.problems);
    assert_eq!(verdict.groups_verified, vec![1, 2, 13]);
    assert_eq!(verdict.groups_signed, vec![1, 2, 13]);
    let signer = verdict.signer.unwrap();
    assert!(signer.subject.contains("Document Signer 1"), "{signer:?}");
    assert_eq!(signer.serial, "02");
}

#[test]
fn a_csca_not_in_the_list_leaves_the_chip_untrusted_and_an_altered_group_is_named() {
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let stranger = TestPki::current(7, "Another CSCA");
    let (chip, _) = signed_chip(&pki);
    let verdict = read_and_check(chip, &trusting(&stranger));
    assert_eq!(verdict.status, Status::Untrusted, "{:?}", verdict.problems);
    assert_eq!(verdict.groups_verified, vec![1, 2, 13], "sound in itself");

    // The photo swapped after signing: invalid, DG2 named, the others still verified.
    let (mut chip, _) = signed_chip(&pki);
    let mut other = sample::holder();
    other.photo[400] ^= 0x55;
    chip.replace_file(
        0x0102,
        ekyc_testchip::lds::dg2(&other.photo, PhotoType::Jpeg, 480, 640),
    );
    let verdict = read_and_check(chip, &trusting(&pki));
    assert_eq!(verdict.status, Status::Invalid);
    assert_names(&verdict, "DG2 differs from what the SOD signs");
    assert_eq!(verdict.groups_verified, vec![1, 13]);
}

#[test]
fn an_expired_document_signer_makes_the_chip_invalid_with_its_date() {
    let year = std::time::Duration::from_secs(365 * 24 * 3600);
    let pki = TestPki::new(3, "Test CSCA", SystemTime::now() - 3 * year, year);
    let (chip, _) = signed_chip(&pki);
    let verdict = read_and_check(chip, &trusting(&pki));
    assert_eq!(verdict.status, Status::Invalid);
    assert_names(&verdict, "the Document Signer certificate expired on");
}

#[test]
fn a_wrong_birth_date_is_a_wrong_key_and_a_card_pulled_away_is_said_so() {
    let pki = TestPki::current(1, "Test CSCA");
    let (chip, _) = signed_chip(&pki);
    let mut wrong = key();
    wrong.birth = "931106".into();
    let error = read_chip(&mut OnReader(chip), &wrong, &mut |_| {}).unwrap_err();
    assert_eq!(error, ChipError::WrongKey);
    assert!(
        error.to_string().contains("do not open its chip"),
        "{error}"
    );

    let (chip, _) = signed_chip(&pki);
    let chip = chip.with_faults(Faults {
        pulled_after: Some(20),
        ..Faults::default()
    });
    let error = read_chip(&mut OnReader(chip), key(), &mut |_| {}).unwrap_err();
    assert_eq!(error, ChipError::Link(LinkError::Removed));
    assert_eq!(error.to_string(), "the card was moved away from the reader");
}

/// OpenSSL, from outside: the SOD our test chip signs verifies under its CSCA, and one
/// whose signed content was altered does not; our verdicts agree on both.
#[test]
fn openssl_agrees_on_the_sod() {
    let pki = TestPki::current(1, "Test CSCA");
    let groups = data_groups(&sample::holder());
    let sod = pki.sod(&groups);
    let folder = tempfile::tempdir().unwrap();
    let csca = folder.path().join("csca.der");
    std::fs::write(&csca, pki.csca_der()).unwrap();
    let pem = folder.path().join("csca.pem");
    let converted = std::process::Command::new("openssl")
        .args(["x509", "-inform", "DER", "-in"])
        .arg(&csca)
        .arg("-out")
        .arg(&pem)
        .status()
        .expect("openssl (Debian's openssl package)");
    assert!(converted.success());
    let verify = |sod: &[u8]| {
        let cms = &sod[4..]; // past 77 82 LL LL
        let path = folder.path().join("sod.der");
        std::fs::write(&path, cms).unwrap();
        std::process::Command::new("openssl")
            .args([
                "cms",
                "-verify",
                "-inform",
                "DER",
                "-purpose",
                "any",
                "-out",
                "/dev/null",
                "-in",
            ])
            .arg(&path)
            .arg("-CAfile")
            .arg(&pem)
            .output()
            .unwrap()
    };
    assert_eq!(&sod[..2], &[0x77, 0x82]);
    let output = verify(&sod);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ours = authenticate(&sod, &groups, &trusting(&pki), SystemTime::now());
    assert_eq!(ours.status, Status::Valid, "{:?}", ours.problems);

    // One byte of a hash inside the signed content changed.
    let mut altered = sod.clone();
    let hash_of_dg1 = ekyc_testchip_sha(&groups[&1]);
    let at = altered
        .windows(32)
        .position(|window| window == hash_of_dg1)
        .unwrap();
    altered[at] ^= 1;
    let output = verify(&altered);
    assert!(!output.status.success(), "OpenSSL refuses the altered SOD");
    let ours = authenticate(&altered, &groups, &trusting(&pki), SystemTime::now());
    assert_eq!(ours.status, Status::Invalid, "{:?}", ours.problems);
}

fn ekyc_testchip_sha(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

/// Active authentication (DG15): the genuine chip signs our challenge with DG15's key; a
/// clone (every file copied, the SOD still valid) cannot.
#[test]
fn active_authentication_tells_a_clone_from_the_original() {
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let genuine = sample::chip_with_active_authentication(&pki, 5, 5);
    let read = read_chip(&mut OnReader(genuine), key(), &mut |_| {}).unwrap();
    assert_eq!(read.active_authentication, ActiveAuthentication::Passed);
    assert!(read.files.groups.contains_key(&15));
    let verdict = check(&read, &trusting(&pki));
    assert_eq!(verdict.status, Status::Valid, "{:?}", verdict.problems);
    assert_eq!(verdict.groups_verified, vec![1, 2, 13, 15]);

    let clone = sample::chip_with_active_authentication(&pki, 5, 6);
    let read = read_chip(&mut OnReader(clone), key(), &mut |_| {}).unwrap();
    let ActiveAuthentication::Failed(reason) = &read.active_authentication else {
        panic!("{:?}", read.active_authentication);
    };
    assert!(
        reason.contains("did not prove it holds the key"),
        "{reason}"
    );
    let verdict = check(&read, &trusting(&pki));
    assert_eq!(
        verdict.status,
        Status::Valid,
        "the copied data is still the issuer's"
    );
}

/// A photo past 32 KB (a passport's JPEG 2000, a generous issuer): its tail is read with
/// READ BINARY's odd form (the offset in a data object), every byte as signed.
#[test]
fn a_data_group_past_32_kilobytes_is_read_whole() {
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let mut holder = sample::holder();
    holder.photo = (0..45_000u32)
        .map(|index| (index * 7 % 251) as u8)
        .collect();
    holder.photo[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    let groups = data_groups(&holder);
    assert!(groups[&2].len() > 0x8000);
    let chip = SoftChip::new(
        ekyc_testchip::lds::files(&groups, pki.sod(&groups)),
        DOCUMENT,
        BIRTH,
        EXPIRY,
    );
    let read = read_chip(&mut OnReader(chip), key(), &mut |_| {}).unwrap();
    assert_eq!(read.files.groups[&2], groups[&2]);
    assert_eq!(read.photo.as_ref().unwrap().bytes, holder.photo);
    assert_eq!(check(&read, &trusting(&pki)).status, Status::Valid);
}

/// A chip whose EF.CardAccess offers PACE with parameters it does not run (the file
/// alone, no PACE behind it) is read with BAC and says why; one that offers no BAC either
/// is named so, never taken for a wrong key.
#[test]
fn a_chip_whose_pace_cannot_be_used_is_read_with_bac_or_named_so() {
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let both = sample::chip(&pki).with_card_access(sample::PACE_CARD_ACCESS.to_vec());
    let read = read_chip(&mut OnReader(both), key(), &mut |_| {}).unwrap();
    assert!(read.pace_offered);
    assert_eq!(read.access, ekyc_chip::Access::Bac);
    assert!(read.pace_skipped.is_some());
    let without = read_chip(&mut OnReader(sample::chip(&pki)), key(), &mut |_| {}).unwrap();
    assert!(!without.pace_offered, "no EF.CardAccess, as on some CCCDs");

    let pace_only = sample::chip(&pki)
        .with_card_access(sample::PACE_CARD_ACCESS.to_vec())
        .with_faults(Faults {
            no_bac: true,
            ..Faults::default()
        });
    let error = read_chip(&mut OnReader(pace_only), key(), &mut |_| {}).unwrap_err();
    assert!(matches!(error, ChipError::BacNotOffered(_)), "{error}");
    assert!(
        error.to_string().contains("opens only with PACE"),
        "{error}"
    );
}

/// PACE (generic mapping, ECDH, AES-128) on both curves a chip offers here, the MRZ as
/// password: the reader's side is dmrtd's, the card's ours (`ekyc-testchip`, checked
/// against ICAO 9303-11 Appendix G.1); every file then comes under AES secure messaging,
/// and the verdict is the same as with BAC.
#[test]
fn a_chip_offering_pace_is_opened_with_pace_on_either_curve_even_without_bac() {
    use ekyc_testchip::pace::Curve;
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    for curve in [Curve::P256, Curve::Brainpool256] {
        let chip = sample::chip(&pki)
            .with_pace(curve, None)
            .with_faults(Faults {
                no_bac: true,
                ..Faults::default()
            });
        let read = read_chip(&mut OnReader(chip), key(), &mut |_| {}).unwrap();
        assert_eq!(read.access, ekyc_chip::Access::Pace, "{curve:?}");
        assert_eq!(read.pace_skipped, None);
        assert_eq!(read.photo.as_ref().unwrap().bytes, sample::photo());
        assert_eq!(check(&read, &trusting(&pki)).status, Status::Valid);
    }
    // A wrong birth date: refused as a wrong key, as with BAC.
    let chip = sample::chip(&pki).with_pace(Curve::P256, None);
    let mut wrong = key();
    wrong.birth = "931106".into();
    let error = read_chip(&mut OnReader(chip), &wrong, &mut |_| {}).unwrap_err();
    assert_eq!(error, ChipError::WrongKey);
}

/// The CAN typed by staff opens a chip offering PACE; a wrong CAN is a wrong key; a chip
/// without PACE cannot be opened with a CAN, and says so.
#[test]
fn the_can_opens_a_chip_with_pace_and_only_with_pace() {
    use ekyc_chip::{Can, ChipKey};
    use ekyc_testchip::pace::Curve;
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let can = |digits: &str| ChipKey::Can(Can(digits.into()));
    let chip = sample::chip(&pki).with_pace(Curve::P256, Some("123456"));
    let read = read_chip(&mut OnReader(chip), can("123456"), &mut |_| {}).unwrap();
    assert_eq!(read.access, ekyc_chip::Access::Pace);
    assert_eq!(read.mrz.document_number, DOCUMENT);

    let chip = sample::chip(&pki).with_pace(Curve::P256, Some("123456"));
    let error = read_chip(&mut OnReader(chip), can("654321"), &mut |_| {}).unwrap_err();
    assert_eq!(error, ChipError::WrongKey);

    let error = read_chip(
        &mut OnReader(sample::chip(&pki)),
        can("123456"),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(error, ChipError::PaceNotOffered);
    assert!(matches!(can("12345").check(), Err(ChipError::BadKey(_))));
}

/// dmrtd's PACE against the worked example of ICAO 9303-11 Appendix G.1: the software
/// chip holds the example's secrets (its answers are the example's, byte for byte: the
/// chip's own test), and the reader, from the example's MRZ, completes the handshake and
/// talks to it under the keys the example derives.
#[test]
fn the_reader_completes_pace_with_the_worked_example_of_appendix_g1() {
    use ekyc_testchip::pace::{Curve, Fixed};
    let hex = |text: &str| -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
            .collect()
    };
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let groups = data_groups(&sample::holder());
    let chip = ekyc_testchip::SoftChip::new(
        ekyc_testchip::lds::files(&groups, pki.sod(&groups)),
        "T22000129",
        "640812",
        "101031",
    )
    .with_pace(Curve::Brainpool256, None)
    .with_pace_secrets(Fixed {
        nonce: hex("3F00C4D39D153F2B2A214A078D899B22").try_into().unwrap(),
        mapping: hex("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560")
            .try_into()
            .unwrap(),
        ephemeral: hex("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A")
            .try_into()
            .unwrap(),
    })
    .with_faults(Faults {
        no_bac: true,
        ..Faults::default()
    });
    let example = MrzKey {
        document_number: "T22000129".into(),
        birth: "640812".into(),
        expiry: "101031".into(),
    };
    let read = read_chip(&mut OnReader(chip), &example, &mut |_| {}).unwrap();
    assert_eq!(read.access, ekyc_chip::Access::Pace);
    assert_eq!(read.files.groups[&1], groups[&1]);
}

/// Chip authentication (DG14, ECDH): with AES after BAC on P-256, with 3DES after PACE on
/// brainpoolP256r1, the original agrees keys with DG14's key and answers under them; a
/// clone (DG14 and the SOD copied, another key held) does not, though its data is still
/// the issuer's. DG14's key is on the card's side `ekyc-testchip::chip_auth`'s, written
/// apart.
#[test]
fn chip_authentication_tells_a_clone_from_the_original() {
    use ekyc_chip::ChipAuthentication;
    use ekyc_testchip::pace::Curve;
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    for (curve, aes, pace) in [
        (Curve::P256, true, false),
        (Curve::Brainpool256, false, true),
    ] {
        let with_access = |chip: ekyc_testchip::SoftChip| {
            if pace {
                chip.with_pace(Curve::P256, None)
            } else {
                chip
            }
        };
        let genuine = with_access(sample::chip_with_chip_authentication(
            &pki, curve, aes, 7, 7,
        ));
        let read = read_chip(&mut OnReader(genuine), key(), &mut |_| {}).unwrap();
        assert_eq!(
            read.chip_authentication,
            ChipAuthentication::Passed,
            "{curve:?}"
        );
        assert_eq!(read.access == ekyc_chip::Access::Pace, pace);
        let verdict = check(&read, &trusting(&pki));
        assert_eq!(verdict.status, Status::Valid, "{:?}", verdict.problems);
        assert!(verdict.groups_verified.contains(&14));

        let clone = with_access(sample::chip_with_chip_authentication(
            &pki, curve, aes, 7, 8,
        ));
        let read = read_chip(&mut OnReader(clone), key(), &mut |_| {}).unwrap();
        let ChipAuthentication::Failed(reason) = &read.chip_authentication else {
            panic!("{curve:?}: {:?}", read.chip_authentication);
        };
        assert!(reason.contains("does not hold DG14's key"), "{reason}");
        assert_eq!(check(&read, &trusting(&pki)).status, Status::Valid);
    }
    let read = read_chip(&mut OnReader(sample::chip(&pki)), key(), &mut |_| {}).unwrap();
    assert_eq!(read.chip_authentication, ChipAuthentication::NotOffered);
}
