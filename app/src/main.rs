//! Entry point of the page: mounts the app (the worker has its own entry point).

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(kizu_app::ui::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the app runs only in a browser; serve it with `trunk serve`");
}
