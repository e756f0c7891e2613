//! Share links: everything that defines a run as URL query pairs, and back. Pure: the
//! page reads and writes the URL. Every value read here is checked; anything unknown,
//! malformed or out of range is named in a note and left out, and nothing read is ever
//! used as HTML or as an address.

use kizu_model::data::Defect;
use kizu_model::zoo::Scale;

use crate::form::{DataChoice, Form, DIGIT_SIDES};
use crate::protocol::{DataSize, Fit, LearningRateSchedule, ModelKind};
use crate::steer;

/// The version of the link format this page writes (`v=`).
pub const VERSION: &str = "1";

/// Keys the page reads itself, which a link may carry beside the run's.
const PAGE_KEYS: [&str; 3] = ["backend", "blank", "kiosk"];

/// The longest value a note quotes.
const QUOTED: usize = 40;

/// A threshold as the picker names it: a method id and its parameter's text, or
/// `manual` and the value.
pub type ThresholdIds = (String, String);

/// What a link asks the page for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Link {
    /// The form it fills, when it carries run settings.
    pub form: Option<Form>,
    /// The threshold to apply to the run's scores.
    pub threshold: Option<ThresholdIds>,
    /// A shipped checkpoint to open (its file name, checked against the catalogue later).
    pub checkpoint: Option<String>,
    /// What was ignored and why, for the user.
    pub notes: Vec<String>,
}

/// The form, the threshold and a shipped checkpoint as query pairs, in a stable order.
pub fn pairs(
    form: &Form,
    threshold: Option<&ThresholdIds>,
    checkpoint: Option<&str>,
) -> Vec<(String, String)> {
    let mut out: Vec<(&str, String)> = vec![("v", VERSION.into())];
    let data = DataChoice::ALL
        .iter()
        .find(|(c, ..)| *c == form.data)
        .map_or("one-class", |(_, id, _)| id);
    out.push(("data", data.into()));
    if form.data == DataChoice::OneClass {
        out.push(("digit", form.digit.to_string()));
    }
    out.push(("model", form.model.id().into()));
    out.push(("scale", scale_id(form.scale).into()));
    let series = form.data.is_series();
    if form.data != DataChoice::Images && !series {
        out.push(("size", form.size.id().into()));
        out.push(("side", form.input_size.to_string()));
        out.push(("channels", form.channels.to_string()));
    }
    if series {
        out.push(("window", form.window.trim().into()));
        out.push(("stride", form.stride.trim().into()));
        out.push(("train-fraction", form.train_fraction.trim().into()));
    }
    out.push(("epochs", form.epochs.trim().into()));
    out.push(("batch", form.batch_size.trim().into()));
    if !form.learning_rate.trim().is_empty() {
        out.push(("lr", form.learning_rate.trim().into()));
    }
    out.push(("lr-schedule", form.learning_rate_schedule.id().into()));
    out.push(("seed", form.seed.trim().into()));
    // A series run has no validation share, input scaling or pseudo-anomalies.
    if !series {
        out.push(("validation", form.validation.trim().into()));
        out.push(("standardise", flag(form.standardise).into()));
        out.push(("pseudo", flag(form.pseudo_anomalies).into()));
    }
    if !series && form.pseudo_anomalies && !form.defects.is_empty() {
        let ids: Vec<&str> = form.defects.iter().map(|&d| d.id()).collect();
        out.push(("defects", ids.join(",")));
    }
    if form.model == ModelKind::Aae {
        out.push(("labelled", form.labelled_anomalies.trim().into()));
    }
    let mut hyper = Vec::new();
    for h in form.model.hyperparameters() {
        if let Some(text) = form.hyperparameters.get(h.id).map(|t| t.trim()) {
            if !text.is_empty() {
                hyper.push((format!("hp.{}", h.id), text.to_owned()));
            }
        }
    }
    if let Some((method, parameter)) = threshold {
        out.push(("threshold", method.clone()));
        if !parameter.trim().is_empty() {
            out.push(("threshold-parameter", parameter.trim().into()));
        }
    }
    if let Some(file) = checkpoint {
        out.push(("checkpoint", file.into()));
    }
    out.into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(hyper)
        .collect()
}

/// Reads a link's query pairs onto `base` (the form as the page opens). Values that are
/// unknown, malformed or out of range leave `base`'s value and are named in a note.
pub fn read(query: &[(String, String)], base: &Form) -> Link {
    let mut link = Link::default();
    let mut form = base.clone();
    // The run settings the link set (their keys), before the form's checks.
    let mut accepted: Vec<&str> = Vec::new();
    let mut threshold_method = None::<String>;
    let mut threshold_parameter = String::new();
    for (key, value) in query {
        let mut refused = false;
        let mut refuse = |what: &str| {
            refused = true;
            link.notes.push(format!(
                "the link's {key}={} was ignored: {what}",
                quoted(value)
            ));
        };
        // Whether the key is one of the run's settings (an unknown one is not).
        let mut run_key = !matches!(
            key.as_str(),
            "v" | "threshold" | "threshold-parameter" | "checkpoint"
        ) && !PAGE_KEYS.contains(&key.as_str());
        match key.as_str() {
            "v" if value != VERSION => link.notes.push(format!(
                "the link was made by another version of Kizu (format {}); its settings were read as this version's",
                quoted(value)
            )),
            "v" => {}
            "data" => match DataChoice::ALL.iter().find(|(_, id, _)| id == value) {
                Some((choice, ..)) => form.data = *choice,
                None => refuse("not a kind of data this page has"),
            },
            "digit" => match value.parse::<u8>() {
                Ok(d) if d <= 9 => form.digit = d,
                _ => refuse("the held-out digit is 0 to 9"),
            },
            "model" => match ModelKind::from_id(value) {
                Some(m) => form.model = m,
                None => refuse("no model of that name"),
            },
            "scale" => match value.as_str() {
                "compact" => form.scale = Scale::Compact,
                "reference" => form.scale = Scale::Reference,
                _ => refuse("the scale is compact or reference"),
            },
            "size" => match DataSize::from_id(value) {
                Some(s) => form.size = s,
                None => refuse("no data size of that name"),
            },
            "side" => match value.parse::<usize>() {
                Ok(s) if DIGIT_SIDES.contains(&s) => form.input_size = s,
                _ => refuse(&format!("the digits can be {DIGIT_SIDES:?} pixels wide")),
            },
            "channels" => match value.as_str() {
                "1" => form.channels = 1,
                "3" => form.channels = 3,
                _ => refuse("channels are 1 or 3"),
            },
            // Typed fields: checked below by the form's own rules.
            "epochs" => form.epochs = value.clone(),
            "batch" => form.batch_size = value.clone(),
            "lr" => form.learning_rate = value.clone(),
            "lr-schedule" => match LearningRateSchedule::from_id(value) {
                Some(s) => form.learning_rate_schedule = s,
                None => refuse("the learning-rate schedule is constant or cosine"),
            },
            "seed" => form.seed = value.clone(),
            "validation" => form.validation = value.clone(),
            "window" => form.window = value.clone(),
            "stride" => form.stride = value.clone(),
            "train-fraction" => form.train_fraction = value.clone(),
            "labelled" => form.labelled_anomalies = value.clone(),
            "standardise" | "pseudo" => match parse_flag(value) {
                Some(on) if key == "standardise" => form.standardise = on,
                Some(on) => form.pseudo_anomalies = on,
                None => refuse("it is 1 or 0"),
            },
            "defects" => {
                let mut kinds = Vec::new();
                for id in value.split(',') {
                    match Defect::from_id(id) {
                        Some(d) if !kinds.contains(&d) => kinds.push(d),
                        Some(_) => {}
                        None => refuse(&format!("no defect kind {}", quoted(id))),
                    }
                }
                form.defects = kinds;
            }
            "threshold" => threshold_method = Some(value.clone()),
            "threshold-parameter" => threshold_parameter = value.clone(),
            "checkpoint" => match checked_file_name(value) {
                Some(file) => link.checkpoint = Some(file),
                None => refuse("not the name of a checkpoint shipped with this page"),
            },
            k if PAGE_KEYS.contains(&k) => {}
            k if k.starts_with("hp.") => {
                let id = &k[3..];
                let known = ModelKind::ALL
                    .iter()
                    .any(|m| m.hyperparameters().iter().any(|h| h.id == id));
                if known {
                    form.hyperparameters.insert(id.to_owned(), value.clone());
                } else {
                    refuse("no model has that setting (from another version of Kizu?)");
                    run_key = false;
                }
            }
            _ => {
                refuse("not a setting of this version of Kizu");
                run_key = false;
            }
        }
        if run_key && !refused {
            accepted.push(key);
        }
    }
    let reverted = check_typed_fields(&mut form, base, &mut link.notes);
    // Only a link that set some setting offers to reproduce a run.
    let carries_run = accepted
        .iter()
        .any(|key| !reverted.iter().any(|field| *field == form_field(key)));
    if carries_run && form.data == DataChoice::Images {
        link.notes.push(
            "this run trained on the sender's own images, which a link cannot carry: load yours below, then reproduce it"
                .into(),
        );
    }
    if carries_run && form.data == DataChoice::Series {
        link.notes.push(
            "this run trained on the sender's own sensor series, which a link cannot carry: load your CSV below, then reproduce it"
                .into(),
        );
    }
    if let Some(method) = threshold_method {
        match steer::named(&method, &threshold_parameter) {
            Ok(_) => link.threshold = Some((method, threshold_parameter)),
            Err(why) => link.notes.push(format!(
                "the link's threshold {} was ignored: {why}",
                quoted(&method)
            )),
        }
    }
    link.form = carries_run.then_some(form);
    link
}

/// The form's name for the field a link's `key` sets (its error messages name it so).
fn form_field(key: &str) -> &str {
    match key {
        "batch" => "batch-size",
        "lr" => "learning-rate",
        "labelled" => "labelled-anomalies",
        k => match k.strip_prefix("hp.") {
            Some(id) => crate::form::hyperparameter_field(id),
            None => k,
        },
    }
}

/// Puts every typed field the form refuses back to `base`'s value, with a note; returns
/// the fields put back.
fn check_typed_fields(form: &mut Form, base: &Form, notes: &mut Vec<String>) -> Vec<&'static str> {
    // Judged as if images were loaded: whether they are is the page's business, not the link's.
    let images = Some(((form.input_size, form.channels), Fit::Resize));
    let mut reverted = Vec::new();
    for _ in 0..2 {
        let Err(errors) = form.settings(images) else {
            break;
        };
        for e in errors {
            reverted.push(e.field);
            notes.push(format!("the link's {} was ignored: {}", e.field, e.message));
            match e.field {
                "epochs" => form.epochs = base.epochs.clone(),
                "batch-size" => form.batch_size = base.batch_size.clone(),
                "seed" => form.seed = base.seed.clone(),
                "learning-rate" => form.learning_rate = base.learning_rate.clone(),
                "labelled-anomalies" => form.labelled_anomalies = base.labelled_anomalies.clone(),
                // Seen vs unseen holds none out, whatever the base holds.
                "validation" if form.data == DataChoice::Unseen => form.validation = "0".into(),
                "validation" => form.validation = base.validation.clone(),
                "window" => form.window = base.window.clone(),
                "stride" => form.stride = base.stride.clone(),
                "train-fraction" => form.train_fraction = base.train_fraction.clone(),
                // Only the LSTM autoencoder reads a series.
                "model" => form.model = crate::protocol::ModelKind::LstmAutoencoder,
                field => {
                    let id = form
                        .model
                        .hyperparameters()
                        .iter()
                        .find(|h| crate::form::hyperparameter_field(h.id) == field)
                        .map(|h| h.id);
                    if let Some(id) = id {
                        form.hyperparameters.remove(id);
                    }
                }
            }
        }
    }
    reverted
}

/// The name of a shipped checkpoint, if `value` can be one: a plain file name of letters,
/// digits, `-`, `_` and `.` ending in `.kizu` (no folder, no address, no `..`).
pub fn checked_file_name(value: &str) -> Option<String> {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let ok = plain
        && value.len() <= 100
        && value.ends_with(".kizu")
        && !value.starts_with('.')
        && !value.contains("..");
    ok.then(|| value.to_owned())
}

/// A value as a note quotes it: at most [`QUOTED`] characters.
fn quoted(value: &str) -> String {
    let mut shown: String = value.chars().take(QUOTED).collect();
    if value.chars().count() > QUOTED {
        shown.push('…');
    }
    format!("“{shown}”")
}

fn flag(on: bool) -> &'static str {
    if on {
        "1"
    } else {
        "0"
    }
}

fn parse_flag(value: &str) -> Option<bool> {
    match value {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

fn scale_id(scale: Scale) -> &'static str {
    match scale {
        Scale::Compact => "compact",
        Scale::Reference => "reference",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{DataProtocol, RunSettings};

    fn base() -> Form {
        Form::from_settings(&RunSettings::quick_demo(
            ModelKind::ConvAutoencoder,
            DataProtocol::OneClass { digit: 0 },
        ))
    }

    fn query(text: &str) -> Vec<(String, String)> {
        text.split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn a_form_travels_whole_through_its_pairs() {
        let mut form = base();
        form.model = ModelKind::Aae;
        form.digit = 7;
        form.epochs = "4".into();
        form.learning_rate = "0.0005".into();
        form.learning_rate_schedule = LearningRateSchedule::Cosine;
        form.seed = "42".into();
        form.pseudo_anomalies = true;
        form.defects = vec![Defect::NoisePatch, Defect::Scratch];
        form.labelled_anomalies = "0.05".into();
        form.hyperparameters.insert("latent".into(), "8".into());
        let threshold = ("percentile".to_owned(), "90".to_owned());
        let pairs = pairs(&form, Some(&threshold), Some("conv-ae-digit0.kizu"));
        let link = read(&pairs, &base());
        assert_eq!(link.notes, Vec::<String>::new());
        assert_eq!(link.form.as_ref(), Some(&form));
        assert_eq!(link.threshold, Some(threshold));
        assert_eq!(link.checkpoint.as_deref(), Some("conv-ae-digit0.kizu"));
        assert!(form.settings(None).is_ok());
    }

    #[test]
    fn a_series_run_travels_with_its_windows_and_a_wrong_model_is_put_right() {
        let mut form = Form::from_settings(&RunSettings::series_recipe(DataProtocol::DemoSeries));
        form.window = "48".into();
        form.stride = "6".into();
        form.train_fraction = "0.4".into();
        let pairs = pairs(&form, None, None);
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert!(keys.contains(&"window") && !keys.contains(&"side") && !keys.contains(&"pseudo"));
        let link = read(&pairs, &base());
        assert_eq!(link.notes, Vec::<String>::new());
        assert_eq!(link.form.as_ref(), Some(&form));
        // Out of range windows and a model that cannot read a series are reported.
        let link = read(
            &query("data=demo-series&model=ganomaly&window=9999&stride=3"),
            &base(),
        );
        let form = link.form.expect("the data and stride were applied");
        assert_eq!(form.model, ModelKind::LstmAutoencoder);
        assert_eq!((form.window.as_str(), form.stride.as_str()), ("32", "3"));
        let notes = link.notes.join("\n");
        assert!(
            notes.contains("window") && notes.contains("model"),
            "{notes}"
        );
        // The sender's own series cannot travel; the page says so.
        let link = read(&query("data=series&model=lstm-ae"), &base());
        assert!(
            link.notes.iter().any(|n| n.contains("CSV")),
            "{:?}",
            link.notes
        );
    }

    #[test]
    fn hostile_and_out_of_range_values_are_named_and_none_applied() {
        let link = read(
            &query("model=<script>alert(1)</script>&epochs=99999&seed=-1&digit=12&side=29&foo=bar&hp.latent=0&checkpoint=../secret.kizu&threshold=percentile&threshold-parameter=120&lr-schedule=warp"),
            &base(),
        );
        // Nothing was applied: there is no run to reproduce.
        assert_eq!(link.form, None);
        assert_eq!(link.checkpoint, None);
        assert_eq!(link.threshold, None);
        let notes = link.notes.join("\n");
        for part in [
            "model=“<script>",
            "epochs",
            "seed",
            "digit=“12”",
            "side=“29”",
            "foo=“bar”",
            "hp-latent",
            "checkpoint=“../secret.kizu”",
            "threshold “percentile”",
            "lr-schedule=“warp”",
        ] {
            assert!(notes.contains(part), "{part} not in\n{notes}");
        }
        assert_eq!(link.notes.len(), 10, "{notes}");
    }

    #[test]
    fn a_link_with_one_setting_applied_offers_its_run() {
        let link = read(&query("epochs=99999&digit=4"), &base());
        let form = link.form.expect("the digit was applied");
        assert_eq!((form.digit, form.epochs), (4, base().epochs));
        assert_eq!(link.notes.len(), 1, "{:?}", link.notes);
    }

    #[test]
    fn checkpoint_names_are_plain_shipped_file_names() {
        assert!(checked_file_name("ganomaly-digit3.kizu").is_some());
        for bad in [
            "../x.kizu",
            "https://evil.example/x.kizu",
            "a/b.kizu",
            ".kizu",
            "x.kizu<script>",
            "x.json",
            "x..kizu",
        ] {
            assert_eq!(checked_file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_older_links_unknown_settings_still_open_with_a_note() {
        let link = read(
            &query("v=0&model=ganomaly&hp.dropout=0.5&epochs=2"),
            &base(),
        );
        let form = link.form.expect("run settings");
        assert_eq!(
            (form.model, form.epochs.as_str()),
            (ModelKind::Ganomaly, "2")
        );
        assert_eq!(link.notes.len(), 2, "{:?}", link.notes);
        assert!(link.notes[0].contains("another version"));
    }

    #[test]
    fn page_keys_alone_carry_no_run() {
        let link = read(&query("backend=cpu&kiosk=1&checkpoint=a.kizu"), &base());
        assert_eq!(link.form, None);
        assert_eq!(link.notes, Vec::<String>::new());
        assert_eq!(link.checkpoint.as_deref(), Some("a.kizu"));
    }

    #[test]
    fn seen_vs_unseen_from_a_link_holds_nothing_out() {
        let link = read(&query("data=unseen&validation=0.2"), &base());
        assert_eq!(link.form.expect("run").validation, "0");
        assert_eq!(link.notes.len(), 1, "{:?}", link.notes);
    }
}
