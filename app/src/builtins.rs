//! The browser's own gzip decoder (`DecompressionStream`) and SHA-256 (`crypto.subtle`),
//! for the worker's host: native code, faster than the crate's Rust compiled to
//! WebAssembly (70-85 ms less per first visit, docs/BENCHMARKS.md). Where either is missing
//! (an older browser; `crypto.subtle` exists only in secure contexts) the crate's Rust code
//! does that part.

use js_sys::{Array, Object, Promise, Uint8Array};
use kizu_model::data::{DataError, Inflated, MAX_UNCOMPRESSED};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::js::{call, get, text};

#[wasm_bindgen]
extern "C" {
    /// `new DecompressionStream(format)`: web-sys binds it only behind its unstable-API flag.
    #[wasm_bindgen(extends = Object)]
    type DecompressionStream;
    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<DecompressionStream, JsValue>;
}

/// A gzip file's content and its SHA-256, each done natively where the browser can.
pub async fn inflate(file: &str, gz: Vec<u8>) -> Result<Inflated, DataError> {
    if get(&js_sys::global(), "DecompressionStream").is_none() {
        return Inflated::from_gzip(file, &gz);
    }
    let bytes = inflate_natively(file, &gz).await?;
    Ok(match sha256_natively(&bytes).await {
        Some(sha256) => Inflated { bytes, sha256 },
        None => Inflated::new(bytes),
    })
}

/// What a JavaScript error says.
fn reason(error: &JsValue) -> String {
    text(error, "message")
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// Pipes `gz` through the browser's gzip decoder, refusing more than [`MAX_UNCOMPRESSED`]
/// bytes as the Rust decoder does.
async fn inflate_natively(file: &str, gz: &[u8]) -> Result<Vec<u8>, DataError> {
    let failed = |why: String| DataError::Gzip {
        file: file.to_owned(),
        reason: why,
    };
    let decoder = DecompressionStream::new("gzip").map_err(|e| failed(reason(&e)))?;
    let blob = web_sys::Blob::new_with_u8_array_sequence(&Array::of1(&Uint8Array::from(gz)))
        .map_err(|e| failed(reason(&e)))?;
    let reader = call(&blob, "stream", &[])
        .and_then(|stream| call(&stream, "pipeThrough", &[decoder.into()]))
        .and_then(|inflating| call(&inflating, "getReader", &[]))
        .ok_or_else(|| failed("the browser could not stream the file to its decoder".into()))?;
    let mut out = Vec::new();
    loop {
        let read: Promise = call(&reader, "read", &[])
            .and_then(|p| p.dyn_into().ok())
            .ok_or_else(|| failed("the decoder's stream could not be read".into()))?;
        let chunk = JsFuture::from(read).await.map_err(|e| failed(reason(&e)))?;
        if get(&chunk, "done").and_then(|d| d.as_bool()) == Some(true) {
            return Ok(out);
        }
        let Some(value) = get(&chunk, "value").and_then(|v| v.dyn_into::<Uint8Array>().ok()) else {
            continue;
        };
        let start = out.len();
        let end = start + value.length() as usize;
        if end as u64 > MAX_UNCOMPRESSED {
            // Stops the decoder; what it would still say no longer matters.
            let _ = call(&reader, "cancel", &[]);
            return Err(DataError::TooLarge {
                file: file.to_owned(),
                limit: MAX_UNCOMPRESSED,
            });
        }
        out.resize(end, 0);
        value.copy_to(&mut out[start..]);
    }
}

/// `crypto.subtle.digest("SHA-256", bytes)`, `None` where the browser has no such API here
/// or it failed.
async fn sha256_natively(bytes: &[u8]) -> Option<[u8; 32]> {
    let subtle = get(&js_sys::global(), "crypto").and_then(|crypto| get(&crypto, "subtle"))?;
    let args = [JsValue::from_str("SHA-256"), Uint8Array::from(bytes).into()];
    let digest: Promise = call(&subtle, "digest", &args)?.dyn_into().ok()?;
    let buffer = JsFuture::from(digest).await.ok()?;
    Uint8Array::new(&buffer).to_vec().try_into().ok()
}
