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
    /// What the app opens first: the digit-0 file of the best model across the held-out
    /// digits. That is the model shipped for the most digits (the checkpoint script ships
    /// the best model for every digit, the others for digit 0 only), by its mean AUC over
    /// them where several are; without one-class files, nothing.
    pub fn featured(&self) -> Option<&CatalogEntry> {
        let mut kinds: Vec<(ModelKind, usize, f64)> = Vec::new();
        for entry in &self.entries {
            let (DataProtocol::OneClass { .. }, Some(auc)) = (&entry.protocol, entry.auc) else {
                continue;
            };
            match kinds.iter_mut().find(|(kind, ..)| *kind == entry.model) {
                Some((_, digits, sum)) => {
                    *digits += 1;
                    *sum += auc;
                }
                None => kinds.push((entry.model, 1, auc)),
            }
        }
        let (best, ..) = kinds.into_iter().max_by(|a, b| {
            let mean = |(_, digits, sum): &(ModelKind, usize, f64)| sum / *digits as f64;
            a.1.cmp(&b.1).then(mean(a).total_cmp(&mean(b)))
        })?;
        let digit0 = DataProtocol::OneClass { digit: 0 };
        best_of(
            self.entries
                .iter()
                .filter(|e| e.model == best && e.protocol == digit0),
        )
        .or_else(|| self.best_for(&digit0))
    }

    /// The entry with the best AUC on `protocol`.
    pub fn best_for(&self, protocol: &DataProtocol) -> Option<&CatalogEntry> {
        best_of(self.entries.iter().filter(|e| &e.protocol == protocol))
    }

    /// The entry named `file`, if the catalogue lists it (so nothing else is fetched).
    pub fn find(&self, file: &str) -> Option<&CatalogEntry> {
        self.entries.iter().find(|e| e.file == file)
    }
}

/// The entry of `entries` with the best AUC (one without an AUC comes last).
fn best_of<'a>(entries: impl Iterator<Item = &'a CatalogEntry>) -> Option<&'a CatalogEntry> {
    entries.max_by(|a, b| {
        let auc = |e: &CatalogEntry| e.auc.unwrap_or(f64::NEG_INFINITY);
        auc(a).total_cmp(&auc(b))
    })
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
        // Only one model per digit: the best on digit 0 is featured.
        assert_eq!(catalog.featured().map(|e| e.file.as_str()), Some("b.kizu"));
        assert!(catalog.find("c.kizu").is_some());
        assert!(catalog.find("../c.kizu").is_none());
        assert_eq!(
            catalog.entries[1].label(),
            "GANomaly · digit 0 held out · AUC 0.900 · 1.0 MB"
        );
    }

    #[test]
    fn the_featured_model_is_the_one_shipped_for_every_digit_opened_on_digit_0() {
        let digit = |d| DataProtocol::OneClass { digit: d };
        let mut entries = vec![
            // Best on digit 0, shipped for it alone.
            entry(
                "ganomaly-digit0.kizu",
                ModelKind::Ganomaly,
                digit(0),
                Some(0.97),
            ),
            entry(
                "fc-ae-digit0.kizu",
                ModelKind::FcAutoencoder,
                digit(0),
                Some(0.9),
            ),
            entry(
                "fc-ae-digit1.kizu",
                ModelKind::FcAutoencoder,
                digit(1),
                Some(0.5),
            ),
            entry(
                "overlay.kizu",
                ModelKind::Aae,
                DataProtocol::Overlay,
                Some(1.0),
            ),
        ];
        for d in 1..3 {
            let file = format!("conv-ae-digit{d}.kizu");
            entries.push(entry(
                &file,
                ModelKind::ConvAutoencoder,
                digit(d),
                Some(0.9),
            ));
        }
        let mut catalog = Catalog { entries };
        // The conv AE is shipped for the most digits, but not for digit 0: the best there.
        assert_eq!(
            catalog.featured().map(|e| e.file.as_str()),
            Some("ganomaly-digit0.kizu")
        );
        catalog.entries.push(entry(
            "conv-ae-digit0.kizu",
            ModelKind::ConvAutoencoder,
            digit(0),
            Some(0.95),
        ));
        assert_eq!(
            catalog.featured().map(|e| e.file.as_str()),
            Some("conv-ae-digit0.kizu")
        );
        // As many digits each: the better mean wins (the FC AE's 0.7 against 0.9).
        catalog.entries.retain(|e| {
            e.model != ModelKind::ConvAutoencoder
                || e.protocol == digit(0)
                || e.protocol == digit(1)
        });
        assert_eq!(
            catalog.featured().map(|e| e.file.as_str()),
            Some("conv-ae-digit0.kizu")
        );
        assert_eq!(Catalog::default().featured(), None);
    }
}
