//! Models kept in this browser: what the list shows of each, its default name, the checks
//! on a new name. Pure; the storage itself is `store` (IndexedDB, browser only).

use kizu_model::catalog::summary;
use kizu_model::settings::DataProtocol;
use kizu_model::zoo::ModelKind;
use serde::{Deserialize, Serialize};

use crate::protocol::{ModelOrigin, ModelView};

/// Longest name a kept model may have, in characters.
pub const MAX_NAME_CHARS: usize = 80;

/// Identifies a kept model in the browser's storage (the time it was kept, in ms, made
/// unique).
pub type KeptId = u64;

/// One kept model as the list shows it; its checkpoint and results are stored beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptModel {
    /// Its key in the storage.
    pub id: KeptId,
    /// What the user calls it.
    pub name: String,
    /// When it was kept (ms since the epoch).
    pub saved_ms: f64,
    /// The model inside.
    pub model: ModelKind,
    /// The data it was trained and tested on.
    pub protocol: DataProtocol,
    /// ROC AUC on its test set, when it had one.
    pub auc: Option<f64>,
    /// Checkpoint size in bytes.
    pub bytes: u64,
}

impl KeptModel {
    /// The entry for `view` with its checkpoint of `bytes` bytes, kept at `saved_ms`.
    pub fn of(view: &ModelView, id: KeptId, saved_ms: f64, bytes: u64) -> Self {
        Self {
            id,
            name: default_name(view),
            saved_ms,
            model: view.model,
            protocol: view.protocol.clone(),
            auc: view.auc,
            bytes,
        }
    }

    /// "GANomaly · digit 0 held out · AUC 0.912 · 1.9 MB".
    pub fn details(&self) -> String {
        summary(self.model, &self.protocol, self.auc, self.bytes)
    }
}

/// What a model is called when it is kept: its file's name, or what it is.
pub fn default_name(view: &ModelView) -> String {
    let name = match &view.origin {
        ModelOrigin::Imported(file)
        | ModelOrigin::Kept { name: file, .. }
        | ModelOrigin::Shipped(file) => file.trim_end_matches(".kizu").to_owned(),
        ModelOrigin::Trained => {
            let seed = view
                .settings
                .as_ref()
                .map(|s| format!(", seed {}", s.seed))
                .unwrap_or_default();
            format!("{} on {}{seed}", view.model.label(), view.protocol.label())
        }
    };
    name.chars().take(MAX_NAME_CHARS).collect()
}

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing but spaces.
    #[error("a name cannot be empty")]
    Empty,
    /// Longer than [`MAX_NAME_CHARS`].
    #[error("a name has at most {MAX_NAME_CHARS} characters, not {chars}")]
    TooLong {
        /// Characters given.
        chars: usize,
    },
}

/// `name` trimmed, if it can name a kept model.
pub fn check_name(name: &str) -> Result<String, NameError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 {
        Err(NameError::Empty)
    } else if chars > MAX_NAME_CHARS {
        Err(NameError::TooLong { chars })
    } else {
        Ok(name.to_owned())
    }
}

/// Why the browser's storage failed, in words the page shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The browser offers no storage here (private window, storage switched off).
    #[error("this browser does not let the page keep models ({0})")]
    Unavailable(String),
    /// The storage quota is used up.
    #[error("the browser's storage for this page is full: delete a kept model or free space")]
    Full,
    /// The model asked for is no longer kept.
    #[error("that model is no longer kept in this browser")]
    Missing,
    /// A kept record could not be read back.
    #[error("a kept model could not be read: {0}")]
    Corrupt(String),
    /// Anything else the storage reported.
    #[error("the browser's storage failed: {0}")]
    Failed(String),
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::protocol::RunSettings;

    fn view(origin: ModelOrigin) -> ModelView {
        ModelView {
            origin,
            model: ModelKind::Ganomaly,
            settings: Some(RunSettings {
                seed: 7,
                ..RunSettings::default()
            }),
            protocol: DataProtocol::OneClass { digit: 3 },
            input: (32, 1),
            score_label: "latent distance".into(),
            thresholds: Vec::new(),
            auc: Some(0.8125),
            ..crate::steer::tests::view(&[], &[], &[])
        }
    }

    #[test]
    fn a_kept_model_is_named_for_what_it_is_or_its_file() {
        let trained = KeptModel::of(&view(ModelOrigin::Trained), 1, 0.0, 1_500_000);
        assert_eq!(trained.name, "GANomaly on digit 3 held out, seed 7");
        assert_eq!(
            trained.details(),
            "GANomaly · digit 3 held out · AUC 0.812 · 1.5 MB"
        );
        let imported = view(ModelOrigin::Imported("line-7.kizu".into()));
        assert_eq!(default_name(&imported), "line-7");
        let long = view(ModelOrigin::Imported("x".repeat(200)));
        assert_eq!(default_name(&long).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  bottle line 2 "), Ok("bottle line 2".into()));
        assert_eq!(check_name("   "), Err(NameError::Empty));
        assert_eq!(
            check_name(&"é".repeat(81)),
            Err(NameError::TooLong { chars: 81 })
        );
        assert!(check_name(&"é".repeat(80)).is_ok());
    }
}
