//! The Web Worker that owns Burn, the data and the lab session, so the page stays
//! responsive. Messages are the types of [`crate::protocol`].

use std::cell::Cell;
use std::rc::Rc;

use gloo_worker::{HandlerId, Worker, WorkerScope};

use crate::protocol::{Action, Command, CommandId, Event, Refusal, Reply};

/// Runs this module as the lab's worker (the entry point of both worker binaries).
pub fn main() {
    use gloo_worker::Registrable;
    console_error_panic_hook::set_once();
    LabWorker::registrar().register();
}

/// The worker script the page starts for a backend: the WebGPU one only where it trains.
pub fn script_for(kind: crate::protocol::BackendKind) -> &'static str {
    match kind {
        crate::protocol::BackendKind::WebGpu => "./worker-webgpu.js",
        crate::protocol::BackendKind::Cpu => "./worker.js",
    }
}

/// The command running: what it does, and whom to answer (an uncaught error is reported
/// to them too).
#[derive(Debug, Clone, Copy)]
// The page's build names the worker type but never runs a command in it.
#[cfg_attr(not(feature = "training"), allow(dead_code))]
struct Running {
    what: &'static str,
    handler: HandlerId,
    command: CommandId,
}

/// The lab's worker: one command at a time, Stop at any time.
pub struct LabWorker {
    /// What is running, if anything.
    running: Rc<Cell<Option<Running>>>,
    control: Rc<crate::control::Control>,
    #[cfg(feature = "training")]
    session: Rc<std::cell::RefCell<crate::session::Session>>,
}

impl Worker for LabWorker {
    type Message = ();
    type Input = Command;
    type Output = Reply;

    fn create(scope: &WorkerScope<Self>) -> Self {
        let running = Rc::new(Cell::new(None));
        #[cfg(feature = "training")]
        browser::report_uncaught(scope, running.clone());
        #[cfg(not(feature = "training"))]
        let _ = scope;
        Self {
            running,
            control: Rc::default(),
            #[cfg(feature = "training")]
            session: Rc::default(),
        }
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: ()) {}

    fn received(&mut self, scope: &WorkerScope<Self>, command: Command, id: HandlerId) {
        let refuse = |refusal| {
            scope.respond(
                id,
                Reply {
                    id: command.id,
                    event: Event::Refused(refusal),
                },
            );
        };
        match (&command.action, self.running.get()) {
            (Action::Stop, Some(_)) => self.control.stop.set(true),
            (Action::Pause, Some(_)) => self.control.paused.set(true),
            (Action::Resume, Some(_)) => self.control.paused.set(false),
            (Action::Stop | Action::Pause | Action::Resume, None) => refuse(Refusal::Idle),
            (_, Some(running)) => refuse(Refusal::Busy {
                running: running.what.to_owned(),
            }),
            (_, None) => self.start(scope, command, id),
        }
    }
}

#[cfg(not(feature = "training"))]
impl LabWorker {
    /// The page's build of this type only names the worker; it never runs in one.
    fn start(&self, scope: &WorkerScope<Self>, command: Command, id: HandlerId) {
        scope.respond(
            id,
            Reply {
                id: command.id,
                event: Event::Failed(crate::protocol::SessionError::Run(
                    "this module was built without the training code".into(),
                )),
            },
        );
    }
}

#[cfg(feature = "training")]
impl LabWorker {
    fn start(&self, scope: &WorkerScope<Self>, command: Command, id: HandlerId) {
        self.running.set(Some(Running {
            what: command.action.describe(),
            handler: id,
            command: command.id,
        }));
        let host = browser::WorkerHost {
            scope: scope.clone(),
            handler: id,
        };
        let (running, control, session) = (
            self.running.clone(),
            self.control.clone(),
            self.session.clone(),
        );
        wasm_bindgen_futures::spawn_local(async move {
            crate::session::handle(&session, command.id, command.action, &host, &control).await;
            running.set(None);
        });
    }
}

#[cfg(feature = "training")]
mod browser {
    use burn::tensor::Device;
    use gloo_worker::{HandlerId, WorkerScope};
    use js_sys::Uint8Array;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use std::cell::Cell;
    use std::rc::Rc;

    use wasm_bindgen::closure::Closure;

    use super::{LabWorker, Running};
    use kizu_model::data::{DataError, Inflated};

    use crate::backend::{decide, device_for, probe_adapter};
    use crate::builtins;
    use crate::protocol::{BackendChoice, BackendInfo, Event, Reply, SessionError};
    use crate::session::Host;

    /// How often a paused run looks for Resume.
    const IDLE_MS: u32 = 100;

    pub(super) struct WorkerHost {
        pub(super) scope: WorkerScope<LabWorker>,
        pub(super) handler: HandlerId,
    }

    impl Host for WorkerHost {
        fn emit(&self, reply: Reply) {
            self.scope.respond(self.handler, reply);
        }

        async fn pause(&self) {
            // A zero timeout lets the worker's event loop deliver a Stop message.
            gloo_timers::future::TimeoutFuture::new(0).await;
        }

        async fn idle(&self) {
            gloo_timers::future::TimeoutFuture::new(IDLE_MS).await;
        }

        fn now_ms(&self) -> f64 {
            // Millisecond resolution is plenty for runs of seconds.
            js_sys::Date::now()
        }

        async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
            fetch_bytes(url).await
        }

        async fn device(&self, choice: BackendChoice) -> (Device, BackendInfo) {
            let adapter = probe_adapter().await;
            device_for(decide(choice, adapter.as_ref())).await
        }

        async fn inflate(&self, file: &str, gz: Vec<u8>) -> Result<Inflated, DataError> {
            builtins::inflate(file, gz).await
        }
    }

    /// Reports an uncaught error in this worker (a panic, or a JavaScript exception thrown
    /// through the module, which no Rust code can catch) as the running command's failure,
    /// so the page does not wait for it forever.
    pub(super) fn report_uncaught(
        scope: &WorkerScope<LabWorker>,
        running: Rc<Cell<Option<Running>>>,
    ) {
        let Ok(global) = js_sys::global().dyn_into::<web_sys::WorkerGlobalScope>() else {
            return;
        };
        let scope = scope.clone();
        let on_error =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |error: web_sys::ErrorEvent| {
                if let Some(running) = running.take() {
                    let event = Event::Failed(SessionError::Crashed(error.message()));
                    let id = running.command;
                    scope.respond(running.handler, Reply { id, event });
                }
            });
        // A listener for the worker's whole life: never dropped.
        let added =
            global.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref());
        if added.is_ok() {
            on_error.forget();
        }
    }

    /// Fetches a file by absolute URL.
    async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
        let failed = |e: JsValue| e.as_string().unwrap_or_else(|| format!("{e:?}"));
        let scope: web_sys::WorkerGlobalScope = js_sys::global()
            .dyn_into()
            .map_err(|_| "not running in a worker".to_owned())?;
        let response: web_sys::Response = JsFuture::from(scope.fetch_with_str(url))
            .await
            .map_err(failed)?
            .dyn_into()
            .map_err(failed)?;
        if !response.ok() {
            return Err(format!("HTTP {}", response.status()));
        }
        let buffer = JsFuture::from(response.array_buffer().map_err(failed)?)
            .await
            .map_err(failed)?;
        Ok(Uint8Array::new(&buffer).to_vec())
    }
}
