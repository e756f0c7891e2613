//! Reading browser objects that web-sys has no binding for (or only behind features the
//! page does not otherwise need): properties, method calls. Used by the adapter probe and
//! the service worker registration.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// `target[key]`, or `None` where it is missing, `undefined` or `null`.
pub fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// `target[key]` as a non-empty string.
pub fn text(target: &JsValue, key: &str) -> Option<String> {
    get(target, key)?.as_string().filter(|s| !s.is_empty())
}

/// `target.method(...args)`, or `None` where there is no such method or it threw.
pub fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Option<JsValue> {
    let f: Function = get(target, method)?.dyn_into().ok()?;
    f.apply(target, &args.iter().collect::<Array>()).ok()
}
