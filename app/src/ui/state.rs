//! What the page knows about the current run, updated from worker messages.

use gloo_worker::{Spawnable, WorkerBridge};
use leptos::prelude::*;

use crate::protocol::{BackendInfo, BackendKind, Request, Response, RunResult, StepReport};
use crate::worker::TrainingWorker;

/// Where a run is.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Nothing started yet.
    Idle,
    /// Working: the text says on what ("training", "scoring").
    Busy(String),
    /// Finished; results are shown.
    Done,
    /// Failed with this message.
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
}

/// Signals describing the run, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct RunState {
    /// Where the run is.
    pub phase: RwSignal<Phase>,
    /// The backend the worker chose.
    pub backend: RwSignal<Option<BackendInfo>>,
    /// Loss terms of every step so far.
    pub losses: RwSignal<LossHistory>,
    /// The latest step.
    pub last_step: RwSignal<Option<StepReport>>,
    /// The result of the last finished run.
    pub result: RwSignal<Option<RunResult>>,
    /// Whether a stop was requested for the current run.
    pub stopping: RwSignal<bool>,
}

impl RunState {
    /// Fresh state: idle, nothing known.
    pub fn new() -> Self {
        Self {
            phase: RwSignal::new(Phase::Idle),
            backend: RwSignal::new(None),
            losses: RwSignal::new(LossHistory::default()),
            last_step: RwSignal::new(None),
            result: RwSignal::new(None),
            stopping: RwSignal::new(false),
        }
    }

    /// Whether a run is going.
    pub fn is_busy(&self) -> bool {
        matches!(self.phase.get(), Phase::Busy(_))
    }

    /// Clears the previous run before a new one.
    pub fn start(&self) {
        self.phase.set(Phase::Busy("starting".into()));
        self.losses.set(LossHistory::default());
        self.last_step.set(None);
        self.result.set(None);
        self.stopping.set(false);
    }

    /// Applies one message from the worker.
    pub fn apply(&self, response: Response) {
        match response {
            Response::Backend(info) => self.backend.set(Some(info)),
            Response::Phase(text) => self.phase.set(Phase::Busy(text)),
            Response::Steps(reports) => {
                self.losses.update(|history| {
                    for report in &reports {
                        history.push(&report.losses);
                    }
                });
                if let Some(last) = reports.last() {
                    self.last_step.set(Some(last.clone()));
                }
            }
            Response::Finished(result) => {
                self.result.set(Some(*result));
                self.phase.set(Phase::Done);
            }
            Response::Failed(message) => self.phase.set(Phase::Failed(message)),
        }
    }
}

impl Default for RunState {
    fn default() -> Self {
        Self::new()
    }
}

/// The page's handle on the training worker.
pub type Bridge = StoredValue<WorkerBridge<TrainingWorker>, LocalStorage>;

/// Starts the worker (Trunk builds it as `worker.js`) and routes its messages to `state`.
pub fn spawn_worker(state: RunState) -> Bridge {
    let bridge = TrainingWorker::spawner()
        .callback(move |response| state.apply(response))
        .as_module(false)
        .spawn("./worker.js");
    StoredValue::new_local(bridge)
}

/// Sends a request to the worker.
pub fn send(bridge: Bridge, request: Request) {
    bridge.with_value(|b| b.send(request));
}

/// Which backend ran, with the adapter and the reason.
#[component]
pub fn BackendBadge() -> impl IntoView {
    let state = expect_context::<RunState>();
    let label = move || match state.backend.get() {
        None => (
            "pending".to_owned(),
            "backend chosen when training starts".to_owned(),
        ),
        Some(info) => {
            let kind = match info.kind {
                BackendKind::WebGpu => "WebGPU",
                BackendKind::Cpu => "CPU",
            };
            let adapter = info
                .adapter
                .map(|a| format!(" · adapter: {a}"))
                .unwrap_or_default();
            (kind.to_owned(), format!("{}{adapter}", info.reason))
        }
    };
    view! {
        <div class="badge" data-testid="backend-badge" data-backend=move || label().0>
            <strong>{move || label().0}</strong>
            <span class="why">{move || label().1}</span>
        </div>
    }
}
