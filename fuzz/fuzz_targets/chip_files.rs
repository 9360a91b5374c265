//! A hostile chip: its files (EF.COM, DG1, DG2, DG13, DG14, an SOD) decoded and checked, and
//! its answers to the reader's commands (PACE or BAC, the files, chip authentication). No panic, no hang, no
//! stack exhausted by nesting.
#![no_main]

use std::collections::BTreeMap;
use std::time::SystemTime;

use ekyc_chip::passive::{authenticate, TrustList};
use ekyc_chip::{lds, read_chip, Card, LinkError, MrzKey};
use libfuzzer_sys::fuzz_target;

/// Answers each command with the next piece of the input (split at 0xFF 0x00).
struct Hostile<'a> {
    answers: std::slice::Split<'a, u8, fn(&u8) -> bool>,
}

impl Card for Hostile<'_> {
    fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, LinkError> {
        self.answers.next().map(<[u8]>::to_vec).ok_or(LinkError::Removed)
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = lds::com_data_groups(data);
    let _ = lds::dg1(data);
    let _ = lds::dg2(data);
    let _ = lds::dg13(data);
    let _ = lds::dg14(data);
    let half = data.len() / 2;
    let groups = BTreeMap::from([(1u8, data[..half].to_vec()), (2u8, data[half..].to_vec())]);
    let _ = authenticate(data, &groups, &TrustList::default(), SystemTime::now());
    let mut card = Hostile {
        answers: data.split((|byte: &u8| *byte == 0xFF) as fn(&u8) -> bool),
    };
    let key = MrzKey {
        document_number: "203004512".into(),
        birth: "931105".into(),
        expiry: "331105".into(),
    };
    let _ = read_chip(&mut card, &key, &mut |_| {});
});
