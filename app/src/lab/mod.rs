//! What the page knows, as plain state: [`Lab::command`] makes a command for the worker,
//! [`Lab::apply`] folds in each reply. No browser in here, so it is tested natively.

use kizu_model::catalog::Catalog;
use kizu_model::metrics::Confusion;

use crate::gallery::Gallery;
use crate::library::{KeptId, KeptModel, StoreError};
use crate::protocol::{
    Action, BackendInfo, Command, CommandId, Event, FileBytes, ModelOrigin, ModelView, Reply,
    Sample, ScoreReport, SeriesReport, StepReport, UploadReport,
};
use crate::steer::Steered;

/// What the page does after a reply, besides drawing it.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Send this command to the worker.
    Send(Action),
    /// Keep this model in the browser's storage.
    Keep(Box<Keep>),
}

/// A model to keep in the browser: its results and its checkpoint file.
#[derive(Debug, Clone, PartialEq)]
pub struct Keep {
    /// Its results, shown again when it is reopened.
    pub view: ModelView,
    /// The checkpoint file's bytes.
    pub checkpoint: Vec<u8>,
}

/// What the browser's storage of kept models did.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreEvent {
    /// The kept models, read when the page opens.
    Listed(Vec<KeptModel>),
    /// A model was kept.
    Kept(KeptModel),
    /// A kept model was renamed.
    Renamed {
        /// Which.
        id: KeptId,
        /// Its new name.
        name: String,
    },
    /// A kept model was deleted.
    Deleted(KeptId),
    /// Something failed; what was kept before stays.
    Failed {
        /// What was being done ("keeping the model").
        doing: &'static str,
        /// What went wrong.
        error: StoreError,
    },
}

/// Where the page's current command is.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Nothing running.
    Idle,
    /// Working: the text says on what ("training", "scoring").
    Busy(String),
    /// The last command finished.
    Done,
    /// The last command failed with this message; what was there before is kept.
    Failed(String),
}

/// Every loss term's value at every step so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LossHistory {
    /// (term, values per step), in the order the model reports them.
    pub series: Vec<(String, Vec<f32>)>,
}

impl LossHistory {
    /// Appends one step's losses.
    fn push(&mut self, losses: &[(String, f32)]) {
        for (name, value) in losses {
            match self.series.iter_mut().find(|(n, _)| n == name) {
                Some((_, values)) => values.push(*value),
                None => self.series.push((name.clone(), vec![*value])),
            }
        }
    }

    /// Steps recorded.
    pub fn steps(&self) -> usize {
        self.series.first().map_or(0, |(_, v)| v.len())
    }

    /// Keeps the first `steps` steps only (a run went back to a copy made after them).
    fn truncate(&mut self, steps: usize) {
        for (_, values) in &mut self.series {
            values.truncate(steps);
        }
    }
}

/// What the page opens once the catalogue of shipped checkpoints arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// The best shipped model, on digit 0 ([`kizu_model::catalog::Catalog::featured`]).
    Best,
    /// Nothing (`?blank`).
    Nothing,
    /// The shipped checkpoint a link names, if the catalogue has it (else the best).
    Shipped(String),
}

/// A threshold a link asks for, waiting for the model it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LinkThreshold {
    ids: (String, String),
    /// The shipped checkpoint it is for; `None`: the next run trained here.
    on: Option<String>,
}

/// The page's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Lab {
    /// Where the current command is.
    pub phase: Phase,
    /// The backend the worker uses.
    pub backend: Option<BackendInfo>,
    /// The shipped checkpoints.
    pub catalog: Catalog,
    /// Loss terms of the current (or last) training run.
    pub losses: LossHistory,
    /// The latest training step.
    pub last_step: Option<StepReport>,
    /// A few test images as the model in training generated them last.
    pub preview: Vec<Sample>,
    /// The session's model and its evaluation.
    pub model: Option<ModelView>,
    /// The images loaded to train on.
    pub upload: Option<UploadReport>,
    /// The sensor series loaded to train on.
    pub series: Option<SeriesReport>,
    /// The last images scored.
    pub scored: Option<ScoreReport>,
    /// A checkpoint file to hand to the user.
    pub download: Option<FileBytes>,
    /// The last refusal, for the user to read.
    pub notice: Option<String>,
    /// Whether a stop was asked for the current run.
    pub stopping: bool,
    /// Whether the current run is paused (or a pause was asked for).
    pub paused: bool,
    /// Whether the running command is a training run (Stop applies).
    pub training: bool,
    /// The models kept in this browser, newest first.
    pub kept: Vec<KeptModel>,
    /// The last thing the browser's storage had to say (a full quota, say).
    pub storage_notice: Option<String>,
    /// The threshold the page applies to the current model.
    pub threshold: Option<Steered>,
    /// The gallery of the current model's test images.
    pub gallery: Gallery,
    /// The gallery's request running (it leaves the phase and notices alone).
    drawing: Option<CommandId>,
    /// Whether the next export is to keep the model just opened, not to download it.
    keep_next: bool,
    /// The export running to keep the model.
    keeping: Option<CommandId>,
    /// The command running and what it is.
    running: Option<CommandId>,
    next_id: CommandId,
    /// What became of a link's checkpoint, once the catalogue says (beside the link's
    /// own notes, unlike a notice, which the next command clears).
    pub link_note: Option<String>,
    /// What to open once the catalogue arrives.
    opening: Opening,
    /// A link's threshold, for the model it names.
    link_threshold: Option<LinkThreshold>,
}

impl Default for Lab {
    fn default() -> Self {
        Self::new(true)
    }
}

impl Lab {
    /// A fresh page; `open_best`: open the best shipped model when the catalogue comes.
    pub fn new(open_best: bool) -> Self {
        Self::opening(if open_best {
            Opening::Best
        } else {
            Opening::Nothing
        })
    }

    /// A fresh page that opens `opening` when the catalogue comes.
    pub fn opening(opening: Opening) -> Self {
        Self {
            phase: Phase::Idle,
            backend: None,
            catalog: Catalog::default(),
            losses: LossHistory::default(),
            last_step: None,
            preview: Vec::new(),
            model: None,
            upload: None,
            series: None,
            scored: None,
            download: None,
            notice: None,
            stopping: false,
            paused: false,
            training: false,
            kept: Vec::new(),
            storage_notice: None,
            threshold: None,
            gallery: Gallery::default(),
            drawing: None,
            keep_next: false,
            keeping: None,
            running: None,
            next_id: 1,
            link_note: None,
            opening,
            link_threshold: None,
        }
    }

    /// Applies the threshold `ids` (from a link) to the shipped checkpoint `on` when it
    /// opens, or with `None` to the next model trained here.
    pub fn threshold_from_link(&mut self, ids: (String, String), on: Option<String>) {
        self.link_threshold = Some(LinkThreshold { ids, on });
    }

    /// Whether a command is running (training, opening, scoring).
    pub fn is_busy(&self) -> bool {
        self.running.is_some()
    }

    /// The command for `action`, noting what the page now waits for.
    pub fn command(&mut self, action: Action) -> Command {
        let id = self.next_id;
        self.next_id += 1;
        if matches!(action, Action::ExportCheckpoint) && self.keep_next {
            self.keeping = Some(id);
        }
        self.keep_next = false;
        match &action {
            Action::Stop => self.stopping = true,
            // Quiet: the run waits between two steps, or goes on.
            Action::Pause => self.paused = true,
            Action::Resume => self.paused = false,
            Action::Gallery { .. } => {
                // Quiet: drawing test images is not something to announce or wait on.
                self.running = Some(id);
                self.drawing = Some(id);
                self.gallery.pending = true;
            }
            other => {
                self.running = Some(id);
                self.phase = Phase::Busy(other.describe().to_owned());
                self.notice = None;
                self.download = None;
                self.training = matches!(other, Action::Train(_));
                if self.training {
                    self.losses = LossHistory::default();
                    self.last_step = None;
                    self.preview = Vec::new();
                    self.stopping = false;
                }
            }
        }
        Command { id, action }
    }

    /// Folds in one reply; returns what to do next, if the reply calls for something.
    pub fn apply(&mut self, reply: Reply) -> Option<Next> {
        let ends = self.running == Some(reply.id);
        if self.drawing == Some(reply.id) {
            match reply.event {
                // On the way: which backend draws them; nothing else to show.
                Event::Backend(info) => {
                    self.backend = Some(info);
                    return None;
                }
                Event::Phase(_) | Event::Steps(_) => return None,
                _ => {}
            }
            self.drawing = None;
            self.gallery.pending = false;
            if ends {
                self.running = None;
            }
            match reply.event {
                Event::Gallery(images) => self.gallery.add(images),
                Event::Refused(refusal) => {
                    self.gallery.stalled = true;
                    self.notice = Some(refusal.to_string());
                }
                Event::Failed(error) => {
                    self.gallery.stalled = true;
                    self.notice = Some(error.to_string());
                }
                // Phases and the backend it was drawn on change nothing shown.
                _ => {}
            }
            return None;
        }
        let finish = |lab: &mut Self, phase: Phase| {
            if ends {
                lab.running = None;
                lab.stopping = false;
                lab.paused = false;
                lab.training = false;
                lab.phase = phase;
            }
        };
        match reply.event {
            Event::Refused(refusal) => {
                self.notice = Some(refusal.to_string());
                if ends {
                    self.running = None;
                    self.training = false;
                    self.phase = Phase::Idle;
                }
            }
            Event::Catalog(catalog) => {
                self.catalog = catalog;
                finish(self, Phase::Idle);
                let best = self.catalog.featured().map(|e| e.file.clone());
                let file = match std::mem::replace(&mut self.opening, Opening::Nothing) {
                    Opening::Nothing => None,
                    Opening::Best => best,
                    Opening::Shipped(name) => {
                        if self.catalog.entries.iter().any(|e| e.file == name) {
                            Some(name)
                        } else {
                            self.link_note = Some(format!(
                                "the link names the checkpoint “{name}”, which this page does not ship: opened the best one instead"
                            ));
                            self.link_threshold = None;
                            best
                        }
                    }
                };
                if self.model.is_none() && !self.is_busy() {
                    return file.map(|file| Next::Send(Action::OpenShipped { file }));
                }
            }
            Event::Backend(info) => self.backend = Some(info),
            Event::FellBack {
                backend,
                resumed_from,
            } => {
                self.losses.truncate(resumed_from);
                self.backend = Some(backend);
            }
            Event::Preview(samples) => self.preview = samples,
            Event::Phase(text) => {
                if ends {
                    self.phase = Phase::Busy(text);
                }
            }
            Event::Steps(reports) => {
                for report in &reports {
                    self.losses.push(&report.losses);
                }
                if let Some(last) = reports.last() {
                    self.last_step = Some(last.clone());
                }
            }
            Event::Model(view) => {
                let keep = view.origin.is_kept_on_open();
                self.threshold = Steered::own(&view);
                self.apply_link_threshold(&view);
                self.gallery = Gallery::default();
                self.model = Some(*view);
                // Scores of another model would read as this one's.
                self.scored = None;
                finish(self, Phase::Done);
                if keep && ends {
                    // Kept through an export: the worker holds the checkpoint.
                    self.keep_next = true;
                    return Some(Next::Send(Action::ExportCheckpoint));
                }
            }
            Event::Checkpoint(file) => {
                finish(self, Phase::Done);
                if self.keeping == Some(reply.id) {
                    self.keeping = None;
                    let view = self.model.clone()?;
                    return Some(Next::Keep(Box::new(Keep {
                        view,
                        checkpoint: file.bytes,
                    })));
                }
                self.download = Some(file);
            }
            Event::ImagesLoaded(report) => {
                self.upload = Some(report);
                finish(self, Phase::Done);
            }
            Event::SeriesLoaded(report) => {
                self.series = Some(report);
                finish(self, Phase::Done);
            }
            Event::Scored(report) => {
                self.scored = Some(report);
                finish(self, Phase::Done);
            }
            // Only the gallery's own request draws (handled above).
            Event::Gallery(_) => {}
            Event::Forgotten => {
                self.model = None;
                self.threshold = None;
                self.gallery = Gallery::default();
                self.upload = None;
                self.series = None;
                self.scored = None;
                finish(self, Phase::Idle);
            }
            Event::Failed(error) if self.keeping == Some(reply.id) => {
                self.keeping = None;
                self.storage_notice = Some(format!("not kept in this browser: {error}"));
                finish(self, Phase::Done);
            }
            Event::Failed(error) => finish(self, Phase::Failed(error.to_string())),
        }
        None
    }

    /// The link's threshold, if `view` is the model it is for; a threshold that cannot be
    /// fitted is a notice, and the model's own stays.
    fn apply_link_threshold(&mut self, view: &ModelView) {
        let Some(wanted) = &self.link_threshold else {
            return;
        };
        let applies = match (&wanted.on, &view.origin) {
            (None, ModelOrigin::Trained) => true,
            (Some(file), ModelOrigin::Shipped(opened)) => file == opened,
            _ => false,
        };
        if !applies {
            return;
        }
        let ids = wanted.ids.clone();
        self.link_threshold = None;
        match Steered::from_ids(view, &ids) {
            Ok(threshold) => self.threshold = Some(threshold),
            Err(e) => self.notice = Some(format!("the link's threshold was not applied: {e}")),
        }
    }

    /// Folds in what the browser's storage did.
    pub fn apply_store(&mut self, event: StoreEvent) {
        match event {
            StoreEvent::Listed(mut kept) => {
                kept.sort_by(|a, b| b.saved_ms.total_cmp(&a.saved_ms));
                self.kept = kept;
            }
            StoreEvent::Kept(kept) => {
                self.storage_notice = Some(format!("kept in this browser as “{}”", kept.name));
                self.kept.insert(0, kept);
            }
            StoreEvent::Renamed { id, name } => {
                if let Some(kept) = self.kept.iter_mut().find(|k| k.id == id) {
                    kept.name = name.clone();
                }
                if let Some(ModelOrigin::Kept {
                    id: open,
                    name: shown,
                }) = self.model.as_mut().map(|m| &mut m.origin)
                {
                    if *open == id {
                        shown.clone_from(&name);
                    }
                }
                self.storage_notice = Some(format!("renamed to “{name}”"));
            }
            StoreEvent::Deleted(id) => {
                self.kept.retain(|k| k.id != id);
                self.storage_notice = None;
            }
            StoreEvent::Failed { doing, error } => {
                self.storage_notice = Some(format!("{doing} failed: {error}"));
            }
        }
    }

    /// The shape and fit the user's images were loaded at, if they were.
    pub fn upload_shape(&self) -> Option<((usize, usize), crate::protocol::Fit)> {
        self.upload.as_ref().map(|u| (u.input, u.fit))
    }

    /// Sets the threshold the page applies (a method's, or moved by hand).
    pub fn steer(&mut self, threshold: Steered) {
        self.threshold = Some(threshold);
    }

    /// The threshold the page applies, if there is a model.
    pub fn threshold_value(&self) -> Option<f32> {
        self.threshold.as_ref().map(|t| t.value)
    }

    /// Test positions in the gallery's order and filters at the current threshold.
    pub fn gallery_order(&self) -> Vec<usize> {
        match (&self.model, self.threshold_value()) {
            (Some(model), Some(threshold)) => {
                crate::gallery::order(model, threshold, self.gallery.labels, self.gallery.verdicts)
            }
            _ => Vec::new(),
        }
    }

    /// The request for the gallery page's (and the opened image's) images not drawn yet,
    /// of the images in `order` ([`Lab::gallery_order`], which the page keeps); none while
    /// the worker is busy or a request is out.
    pub fn gallery_request(&self, order: &[usize]) -> Option<Action> {
        if self.is_busy() || self.gallery.pending || self.gallery.stalled {
            return None;
        }
        let missing = self.gallery.missing(self.gallery.page_of(order));
        (!missing.is_empty()).then_some(Action::Gallery { indices: missing })
    }

    /// Test outcomes of the current model at `threshold` (moved by the user).
    pub fn confusion_at(&self, threshold: f32) -> Option<Confusion> {
        let model = self.model.as_ref()?;
        (!model.test_is_anomaly.is_empty())
            .then(|| Confusion::at(&model.test_scores, &model.test_is_anomaly, threshold))
    }
}

#[cfg(test)]
mod tests;
