//! Entry point of the CPU training Web Worker, `worker.js` (Trunk's `data-type="worker"`):
//! the one the page starts unless it finds a hardware WebGPU adapter.

fn main() {
    #[cfg(target_arch = "wasm32")]
    kizu_app::worker::main();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("the worker runs only in a browser; build the app with `trunk build`");
}
