//! User-facing text: Fluent files under `assets/locales/{en,vi}/`, one per screen, built
//! into the binary. English is the fallback.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

use ekyc_contract::Lang;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./assets/locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: egui would draw them as boxes.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

fn language(lang: Lang) -> LanguageIdentifier {
    match lang {
        Lang::En => fluent_templates::langid!("en"),
        Lang::Vi => fluent_templates::langid!("vi"),
    }
}

/// The message `id` in `lang`.
pub fn text(lang: Lang, id: &str) -> String {
    LOCALES.lookup(&language(lang), id)
}

/// The message `id` in `lang`, with its arguments.
pub fn text_with(lang: Lang, id: &str, args: &[(&'static str, String)]) -> String {
    let args: HashMap<Cow<'static, str>, FluentValue> = args
        .iter()
        .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(value.clone())))
        .collect();
    LOCALES.lookup_with_args(&language(lang), id, &args)
}

/// The message `id` in `lang`, or `None` where no file has it (an OCR key without a
/// translated label).
pub fn try_text(lang: Lang, id: &str) -> Option<String> {
    LOCALES.try_lookup(&language(lang), id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    fn message_ids(lang: &str) -> BTreeSet<(String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/locales")
            .join(lang);
        let mut ids = BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                if let Some((id, _)) = line.split_once(" = ") {
                    ids.insert((file.clone(), id.trim().to_owned()));
                }
            }
        }
        ids
    }

    #[test]
    fn every_message_exists_in_english_and_vietnamese_in_the_same_file() {
        let english = message_ids("en");
        let vietnamese = message_ids("vi");
        assert!(english.len() > 50, "{} messages", english.len());
        assert_eq!(
            english.difference(&vietnamese).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "missing in vi"
        );
        assert_eq!(
            vietnamese.difference(&english).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "missing in en"
        );
    }

    #[test]
    fn messages_are_looked_up_per_language_with_arguments() {
        assert_eq!(text(Lang::En, "welcome-start"), "Start");
        assert_eq!(text(Lang::Vi, "welcome-start"), "Bắt đầu");
        assert_eq!(
            text_with(Lang::Vi, "idle-body", &[("seconds", "7".into())]),
            "Để bảo vệ thông tin của quý khách, phiên làm việc sẽ kết thúc sau 7 giây nếu quý khách không yêu cầu thêm thời gian."
        );
        assert_eq!(try_text(Lang::En, "field-Blood-type"), None);
    }
}
