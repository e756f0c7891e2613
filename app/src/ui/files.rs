//! Browser glue for files: what a picker or a drop gives (folders walked), and handing a
//! file to the user as a download.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::protocol::FileBytes;

#[wasm_bindgen(inline_js = r#"
// The items of a drop must be read before the first await, or the browser empties them.
export function dropped_files(dataTransfer) {
  const entries = [];
  const loose = [];
  for (const item of dataTransfer.items) {
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else { const file = item.getAsFile(); if (file) loose.push([file.name, file]); }
  }
  async function walk(entry, prefix, out) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      out.push([prefix + file.name, file]);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, prefix + entry.name + '/', out);
      }
    }
  }
  return (async () => {
    const out = [...loose];
    for (const entry of entries) await walk(entry, '', out);
    return out;
  })();
}
"#)]
extern "C" {
    /// `[[path, File], ..]` of a drop, folders walked.
    fn dropped_files(data_transfer: &web_sys::DataTransfer) -> js_sys::Promise;
}

/// Reads one file's bytes.
async fn read(path: String, file: &web_sys::File) -> Result<FileBytes, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("{path}: {e:?}"))?;
    Ok(FileBytes {
        path,
        bytes: Uint8Array::new(&buffer).to_vec(),
    })
}

/// The files chosen in an `<input type=file>`, paths relative to a chosen folder.
pub async fn from_input(input: &web_sys::HtmlInputElement) -> Vec<FileBytes> {
    let Some(list) = input.files() else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for i in 0..list.length() {
        let Some(file) = list.item(i) else { continue };
        let relative = js_sys::Reflect::get(&file, &JsValue::from_str("webkitRelativePath"))
            .ok()
            .and_then(|v| v.as_string())
            .filter(|p| !p.is_empty());
        let path = relative.unwrap_or_else(|| file.name());
        match read(path, &file).await {
            Ok(bytes) => files.push(bytes),
            // The browser could not read it (removed meanwhile, no permission): left out,
            // and said in the console.
            Err(e) => leptos::logging::error!("{e}"),
        }
    }
    files
}

/// Starts collecting the files of a drop; call it in the drop handler itself (the browser
/// empties the drop's items once the handler returns), then [`read_dropped`].
pub fn start_drop(data_transfer: &web_sys::DataTransfer) -> js_sys::Promise {
    dropped_files(data_transfer)
}

/// The files of a drop started with [`start_drop`], folders walked.
pub async fn read_dropped(started: js_sys::Promise) -> Vec<FileBytes> {
    let Ok(found) = JsFuture::from(started).await else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for pair in Array::from(&found).iter() {
        let pair = Array::from(&pair);
        let (Some(path), Ok(file)) = (
            pair.get(0).as_string(),
            pair.get(1).dyn_into::<web_sys::File>(),
        ) else {
            continue;
        };
        if let Ok(bytes) = read(path, &file).await {
            files.push(bytes);
        }
    }
    files
}

/// Offers `file` to the user as a download.
pub fn download(file: &FileBytes) -> Result<(), JsValue> {
    let bytes = Uint8Array::from(file.bytes.as_slice());
    let parts = Array::of1(&bytes);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = leptos::prelude::document();
    let anchor: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    anchor.set_href(&url);
    anchor.set_download(&file.path);
    anchor.click();
    web_sys::Url::revoke_object_url(&url)
}
