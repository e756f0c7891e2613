//! The Web Worker that trains: it owns Burn, the data and the run, so the page stays
//! responsive. Messages are the types of [`crate::protocol`].

use std::cell::Cell;
use std::rc::Rc;

use gloo_worker::{HandlerId, Worker, WorkerScope};
use js_sys::Uint8Array;
use kizu_model::data::{Mnist, BUNDLED_IMAGES_FILE, BUNDLED_LABELS_FILE};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::backend::{decide, device_for, probe_adapter};
use crate::job::{train_and_evaluate, Host};
use crate::protocol::{Request, Response, TrainRequest};

/// The training worker: at most one run at a time.
pub struct TrainingWorker {
    stop: Rc<Cell<bool>>,
    running: Rc<Cell<bool>>,
}

impl Worker for TrainingWorker {
    type Message = ();
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        Self {
            stop: Rc::new(Cell::new(false)),
            running: Rc::new(Cell::new(false)),
        }
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: ()) {}

    fn received(&mut self, scope: &WorkerScope<Self>, request: Request, id: HandlerId) {
        match request {
            Request::Stop => self.stop.set(true),
            Request::Train(_) if self.running.get() => {}
            Request::Train(train) => {
                self.stop.set(false);
                self.running.set(true);
                let host = WorkerHost {
                    scope: scope.clone(),
                    id,
                    stop: self.stop.clone(),
                };
                let running = self.running.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let outcome = run(&train, &host).await;
                    host.emit(match outcome {
                        Ok(result) => Response::Finished(Box::new(result)),
                        Err(message) => Response::Failed(message),
                    });
                    running.set(false);
                });
            }
        }
    }
}

struct WorkerHost {
    scope: WorkerScope<TrainingWorker>,
    id: HandlerId,
    stop: Rc<Cell<bool>>,
}

impl Host for WorkerHost {
    fn emit(&self, response: Response) {
        self.scope.respond(self.id, response);
    }

    fn should_stop(&self) -> bool {
        self.stop.get()
    }

    async fn pause(&self) {
        // A zero timeout lets the worker's event loop deliver a Stop message.
        gloo_timers::future::TimeoutFuture::new(0).await;
    }

    fn now_ms(&self) -> f64 {
        // Millisecond resolution is plenty for runs of seconds.
        js_sys::Date::now()
    }
}

async fn run(
    request: &TrainRequest,
    host: &WorkerHost,
) -> Result<crate::protocol::RunResult, String> {
    let adapter = probe_adapter().await;
    let (device, info) = device_for(decide(request.backend, adapter.as_ref())).await;
    host.emit(Response::Backend(info));
    host.emit(Response::Phase("loading data".into()));
    let data_url = request.data_url.trim_end_matches('/');
    let images = fetch_bytes(&format!("{data_url}/{BUNDLED_IMAGES_FILE}")).await?;
    let labels = fetch_bytes(&format!("{data_url}/{BUNDLED_LABELS_FILE}")).await?;
    let mnist = Mnist::bundled(&images, &labels).map_err(|e| e.to_string())?;
    host.emit(Response::Phase("training".into()));
    train_and_evaluate(request, &mnist, &device, host)
        .await
        .map_err(|e| e.to_string())
}

/// Fetches a file by absolute URL.
async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let failed = |e: JsValue| {
        format!(
            "{url}: {}",
            e.as_string().unwrap_or_else(|| format!("{e:?}"))
        )
    };
    let scope: web_sys::WorkerGlobalScope = js_sys::global()
        .dyn_into()
        .map_err(|_| "not running in a worker".to_owned())?;
    let response: web_sys::Response = JsFuture::from(scope.fetch_with_str(url))
        .await
        .map_err(failed)?
        .dyn_into()
        .map_err(failed)?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(failed)?)
        .await
        .map_err(failed)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
