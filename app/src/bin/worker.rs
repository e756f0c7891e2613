//! Entry point of the training Web Worker (built by Trunk with `data-type="worker"`).

#[cfg(target_arch = "wasm32")]
fn main() {
    use gloo_worker::Registrable;
    console_error_panic_hook::set_once();
    kizu_app::worker::LabWorker::registrar().register();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs only in a browser; build the app with `trunk build`");
}
