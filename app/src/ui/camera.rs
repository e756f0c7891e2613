//! A webcam snapshot, where the browser allows one: a live preview and a button that hands
//! the current frame on as a PNG file.

use leptos::html::Video;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::protocol::FileBytes;

#[wasm_bindgen(inline_js = r#"
export async function start_camera(video) {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser offers no camera to the page (it needs https or localhost)');
  const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  video.srcObject = stream;
  await video.play();
}
export function stop_camera(video) {
  video.srcObject?.getTracks().forEach((t) => t.stop());
  video.srcObject = null;
}
export async function snapshot(video) {
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the camera gave no frame yet');
  return new Uint8Array(await blob.arrayBuffer());
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn start_camera(video: &web_sys::HtmlVideoElement) -> Result<js_sys::Promise, JsValue>;
    fn stop_camera(video: &web_sys::HtmlVideoElement);
    #[wasm_bindgen(catch)]
    fn snapshot(video: &web_sys::HtmlVideoElement) -> Result<js_sys::Promise, JsValue>;
}

/// A JavaScript error's message.
fn message(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "the camera failed".into())
}

async fn run(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, String> {
    JsFuture::from(promise.map_err(message)?)
        .await
        .map_err(message)
}

/// A camera preview with a snapshot button; `on_snapshot` gets each frame as a PNG file.
#[component]
pub fn Camera(
    /// Takes each snapshot.
    on_snapshot: impl Fn(FileBytes) + Copy + 'static,
    /// Whether a snapshot can be taken now (a model is open, nothing running).
    #[prop(into)]
    ready: Signal<bool>,
) -> impl IntoView {
    let video = NodeRef::<Video>::new();
    let (live, set_live) = signal(false);
    let (problem, set_problem) = signal(None::<String>);
    let taken = StoredValue::new(0_usize);
    let toggle = move |_| {
        let Some(element) = video.get() else { return };
        if live.get_untracked() {
            stop_camera(&element);
            set_live.set(false);
            return;
        }
        leptos::task::spawn_local(async move {
            match run(start_camera(&element)).await {
                Ok(_) => {
                    set_problem.set(None);
                    set_live.set(true);
                }
                Err(e) => set_problem.set(Some(format!("no camera: {e}"))),
            }
        });
    };
    let snap = move |_| {
        let Some(element) = video.get() else { return };
        leptos::task::spawn_local(async move {
            match run(snapshot(&element)).await {
                Ok(bytes) => {
                    taken.update_value(|n| *n += 1);
                    on_snapshot(FileBytes {
                        path: format!("camera-{}.png", taken.get_value()),
                        bytes: js_sys::Uint8Array::new(&bytes).to_vec(),
                    });
                }
                Err(e) => set_problem.set(Some(e)),
            }
        });
    };
    on_cleanup(move || {
        if let Some(element) = video.get_untracked() {
            stop_camera(&element);
        }
    });
    view! {
        <div class="camera">
            <button data-testid="camera-toggle" on:click=toggle>
                {move || if live.get() { "Camera off" } else { "Use the camera" }}
            </button>
            <button data-testid="camera-snap" on:click=snap disabled=move || !live.get() || !ready.get()>
                "Check this frame"
            </button>
            <video node_ref=video data-testid="camera-preview" muted=true playsinline=true class:hidden=move || !live.get()></video>
            {move || problem.get().map(|p| view! { <p class="warning" data-testid="camera-problem">{p}</p> })}
        </div>
    }
}
