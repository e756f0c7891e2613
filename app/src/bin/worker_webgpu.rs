//! Entry point of the WebGPU training Web Worker, `worker-webgpu.js` (built with the
//! `webgpu` feature): the page starts it where it finds a hardware adapter, or when
//! `?backend=webgpu` asks. It trains on the CPU too.

fn main() {
    #[cfg(target_arch = "wasm32")]
    kizu_app::worker::main();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("the worker runs only in a browser; build the app with `trunk build`");
}
