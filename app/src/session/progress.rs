//! A training run's progress as the page sees it: its steps reported at most every
//! [`REPORT_INTERVAL_MS`], previews of what the model generates, and Stop, Pause and
//! Resume honoured between steps.

use std::cell::{Cell, RefCell};

use burn::tensor::Device;
use kizu_model::detector::Normalised;
use kizu_model::run::{FellBack, RunObserver};
use kizu_model::score::ScoreKind;
use kizu_model::viz::DEFAULT_DIFFERENCE_SCALE;
use kizu_model::zoo::AnyDetector;

use super::views::TestImages;
use super::{Control, Host};
use crate::protocol::{BackendInfo, BackendKind, CommandId, Event, Reply, StepReport};

/// Shortest time between two progress reports: the page redraws on each one.
const REPORT_INTERVAL_MS: f64 = 100.0;
/// Time between two previews of what the model generates while it trains.
const PREVIEW_INTERVAL_MS: f64 = 2_000.0;

/// A few test images redrawn with the model as it trains.
pub(super) struct Preview<'a> {
    pub test: &'a TestImages,
    pub indices: Vec<usize>,
    /// When the last preview was drawn.
    pub last: Cell<f64>,
}

/// Reports a run's steps to the page, at most every [`REPORT_INTERVAL_MS`], and honours
/// Stop, Pause and Resume.
pub(super) struct Progress<'a, H> {
    /// What to preview while training, if anything.
    preview: Option<Preview<'a>>,
    id: CommandId,
    host: &'a H,
    control: &'a Control,
    /// The backend the run started on (the badge's, until a fall back).
    backend: BackendInfo,
    pending: RefCell<Vec<StepReport>>,
    last_report: Cell<f64>,
    pub images: Cell<usize>,
    /// Time spent paused (not training).
    pub paused_ms: Cell<f64>,
    /// When the run started.
    started: f64,
}

impl<'a, H: Host> Progress<'a, H> {
    pub fn new(
        id: CommandId,
        host: &'a H,
        control: &'a Control,
        backend: BackendInfo,
        preview: Option<Preview<'a>>,
    ) -> Self {
        control.stop.set(false);
        control.paused.set(false);
        Self {
            preview,
            id,
            host,
            control,
            backend,
            paused_ms: Cell::new(0.0),
            started: host.now_ms(),
            pending: RefCell::default(),
            last_report: Cell::new(host.now_ms()),
            images: Cell::new(0),
        }
    }

    pub fn flush(&self) {
        let pending = self.pending.take();
        if !pending.is_empty() {
            self.host.emit(Reply {
                id: self.id,
                event: Event::Steps(pending),
            });
        }
        self.last_report.set(self.host.now_ms());
    }
}

impl<H: Host> RunObserver for Progress<'_, H> {
    fn step(&self, step: &kizu_model::train::StepReport) {
        self.images.set(self.images.get() + step.images);
        let last_step = step.progress.step == step.progress.total_steps;
        self.pending.borrow_mut().push(StepReport {
            epoch: step.progress.epoch,
            step: step.progress.step,
            total_steps: step.progress.total_steps,
            losses: step
                .losses
                .iter()
                .map(|&(name, value)| (name.to_owned(), value))
                .collect(),
            elapsed_ms: self.host.now_ms() - self.started - self.paused_ms.get(),
        });
        if self.host.now_ms() - self.last_report.get() >= REPORT_INTERVAL_MS || last_step {
            self.flush();
        }
    }

    fn should_stop(&self) -> bool {
        self.control.stop.get()
    }

    fn wants_preview(&self, report: &kizu_model::train::StepReport) -> bool {
        self.preview.as_ref().is_some_and(|p| {
            report.progress.step == 1 || self.host.now_ms() - p.last.get() >= PREVIEW_INTERVAL_MS
        })
    }

    fn fell_back(&self, event: &FellBack) {
        self.flush();
        self.host.emit(Reply {
            id: self.id,
            event: Event::FellBack {
                backend: on_the_cpu(&self.backend, event),
                resumed_from: event.resumed_from,
            },
        });
    }

    async fn preview(&self, model: &Normalised<'_, AnyDetector>, device: &Device) {
        let Some(preview) = &self.preview else { return };
        preview.last.set(self.host.now_ms());
        // Judged by MSE: the model's own score is fitted only when training ends.
        let drawn = preview
            .test
            .draw(
                model,
                &preview.indices,
                ScoreKind::Mse,
                DEFAULT_DIFFERENCE_SCALE,
                device,
            )
            .await;
        // A preview that cannot be drawn is skipped: training goes on.
        if let Ok(samples) = drawn {
            self.flush();
            self.host.emit(Reply {
                id: self.id,
                event: Event::Preview(samples),
            });
        }
    }

    async fn yield_now(&self) {
        self.host.pause().await;
        let waiting = || self.control.paused.get() && !self.control.stop.get();
        if !waiting() {
            return;
        }
        // Paused between two steps: the run waits where it is, so resuming continues the
        // same run (one loss history, the same batches and result).
        self.flush();
        let emit = |text: &str| {
            self.host.emit(Reply {
                id: self.id,
                event: Event::Phase(text.into()),
            });
        };
        emit("paused");
        let since = self.host.now_ms();
        while waiting() {
            self.host.idle().await;
        }
        self.paused_ms
            .set(self.paused_ms.get() + self.host.now_ms() - since);
        emit("training");
        self.last_report.set(self.host.now_ms());
    }
}

/// The backend after a run fell back from `before` to the CPU, saying why.
pub(super) fn on_the_cpu(before: &BackendInfo, event: &FellBack) -> BackendInfo {
    BackendInfo {
        kind: BackendKind::Cpu,
        adapter: before.adapter.clone(),
        reason: format!(
            "WebGPU failed at step {} ({}); training went on on the CPU from step {}",
            event.failed_at, event.reason, event.resumed_from
        ),
    }
}
