//! The list of shipped checkpoints (`checkpoints/index.json` beside the app), written by
//! `kizu catalog` from the files' headers and read by the app to offer them. Pure.

use serde::{Deserialize, Serialize};

use crate::settings::DataProtocol;
use crate::zoo::ModelKind;

/// The catalogue's file name, in the checkpoints folder.
pub const CATALOG_FILE: &str = "index.json";

/// One shipped checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// File name in the checkpoints folder (no path).
    pub file: String,
    /// The model inside.
    pub model: ModelKind,
    /// The data it was trained and tested on.
    pub protocol: DataProtocol,
    /// ROC AUC on its test set, as measured when it was written.
    pub auc: Option<f64>,
    /// File size in bytes.
    pub bytes: u64,
}

impl CatalogEntry {
    /// "GANomaly · digit 0 held out · AUC 0.912 · 1.9 MB".
    pub fn label(&self) -> String {
        summary(self.model, &self.protocol, self.auc, self.bytes)
    }
}

/// One line about a checkpoint: "GANomaly · digit 0 held out · AUC 0.912 · 1.9 MB".
pub fn summary(model: ModelKind, protocol: &DataProtocol, auc: Option<f64>, bytes: u64) -> String {
    let auc = auc.map_or_else(|| "AUC n/a".to_owned(), |a| format!("AUC {a:.3}"));
    format!(
        "{} · {} · {auc} · {:.1} MB",
        model.label(),
        protocol.label(),
        bytes as f64 / 1e6
    )
}

/// Every shipped checkpoint.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// The checkpoints, in file-name order.
    pub entries: Vec<CatalogEntry>,
}

impl Catalog {
    /// The entry with the best AUC on `protocol`: what the app opens first.
    pub fn best_for(&self, protocol: &DataProtocol) -> Option<&CatalogEntry> {
        self.entries
            .iter()
            .filter(|e| &e.protocol == protocol)
            .max_by(|a, b| {
                let auc = |e: &CatalogEntry| e.auc.unwrap_or(f64::NEG_INFINITY);
                auc(a).total_cmp(&auc(b))
            })
    }

    /// The entry named `file`, if the catalogue lists it (so nothing else is fetched).
    pub fn find(&self, file: &str) -> Option<&CatalogEntry> {
        self.entries.iter().find(|e| e.file == file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        file: &str,
        model: ModelKind,
        protocol: DataProtocol,
        auc: Option<f64>,
    ) -> CatalogEntry {
        CatalogEntry {
            file: file.into(),
            model,
            protocol,
            auc,
            bytes: 1_000_000,
        }
    }

    #[test]
    fn the_best_entry_is_the_highest_auc_on_the_protocol() {
        let digit0 = DataProtocol::OneClass { digit: 0 };
        let catalog = Catalog {
            entries: vec![
                entry(
                    "a.kizu",
                    ModelKind::FcAutoencoder,
                    digit0.clone(),
                    Some(0.7),
                ),
                entry("b.kizu", ModelKind::Ganomaly, digit0.clone(), Some(0.9)),
                entry(
                    "c.kizu",
                    ModelKind::ConvAutoencoder,
                    DataProtocol::Overlay,
                    Some(0.99),
                ),
                entry("d.kizu", ModelKind::Aae, digit0.clone(), None),
            ],
        };
        assert_eq!(
            catalog.best_for(&digit0).map(|e| e.file.as_str()),
            Some("b.kizu")
        );
        assert_eq!(catalog.best_for(&DataProtocol::OneClass { digit: 3 }), None);
        assert!(catalog.find("c.kizu").is_some());
        assert!(catalog.find("../c.kizu").is_none());
        assert_eq!(
            catalog.entries[1].label(),
            "GANomaly · digit 0 held out · AUC 0.900 · 1.0 MB"
        );
    }
}
