//! The Web Worker that trains: it owns Burn, the data and the run, so the page stays
//! responsive. Messages are the types of [`crate::protocol`].

use std::cell::Cell;
use std::rc::Rc;

use gloo_worker::{HandlerId, Worker, WorkerScope};

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
            Request::Train(train) => self.start(scope, train, id),
        }
    }
}

#[cfg(not(feature = "training"))]
impl TrainingWorker {
    /// The page's build of this type only names the worker; it never runs in one.
    fn start(&self, scope: &WorkerScope<Self>, _train: TrainRequest, id: HandlerId) {
        scope.respond(
            id,
            Response::Failed("this module was built without the training code".into()),
        );
    }
}

#[cfg(feature = "training")]
impl TrainingWorker {
    fn start(&self, scope: &WorkerScope<Self>, train: TrainRequest, id: HandlerId) {
        use crate::job::Host as _;
        self.stop.set(false);
        self.running.set(true);
        let host = training::WorkerHost {
            scope: scope.clone(),
            id,
            stop: self.stop.clone(),
        };
        let running = self.running.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let outcome = training::run(&train, &host).await;
            host.emit(match outcome {
                Ok(result) => Response::Finished(Box::new(result)),
                Err(message) => Response::Failed(message),
            });
            running.set(false);
        });
    }
}

#[cfg(feature = "training")]
mod training {
    use std::cell::Cell;
    use std::rc::Rc;

    use gloo_worker::{HandlerId, WorkerScope};
    use js_sys::Uint8Array;
    use kizu_model::data::{Mnist, BUNDLED_IMAGES_FILE, BUNDLED_LABELS_FILE};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::TrainingWorker;
    use crate::backend::{decide, device_for, probe_adapter};
    use crate::job::{train_and_evaluate, Host};
    use crate::protocol::{Response, RunResult, TrainRequest};

    pub(super) struct WorkerHost {
        pub(super) scope: WorkerScope<TrainingWorker>,
        pub(super) id: HandlerId,
        pub(super) stop: Rc<Cell<bool>>,
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

    pub(super) async fn run(
        request: &TrainRequest,
        host: &WorkerHost,
    ) -> Result<RunResult, String> {
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
}
