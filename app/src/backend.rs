//! Which compute backend a run uses: the policy (pure) and, in the browser, the probing.

use crate::protocol::{BackendChoice, BackendInfo, BackendKind};

/// What the browser says about its WebGPU adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterProbe {
    /// A readable name ("google swiftshader", "NVIDIA GeForce ...").
    pub name: String,
    /// Whether it is a software fallback adapter (e.g. SwiftShader).
    pub is_fallback: bool,
}

/// Picks the backend: WebGPU by default only on a hardware adapter, because a software
/// fallback adapter (SwiftShader) trains ~30x slower than the CPU path; `?backend=`
/// overrides either way.
pub fn decide(choice: BackendChoice, adapter: Option<&AdapterProbe>) -> BackendInfo {
    let adapter_name = adapter.map(|a| a.name.clone());
    let (kind, reason) = match (choice, adapter) {
        (BackendChoice::Cpu, _) => (BackendKind::Cpu, "forced by ?backend=cpu".to_owned()),
        (BackendChoice::WebGpu, Some(a)) if a.is_fallback => (
            BackendKind::WebGpu,
            "forced by ?backend=webgpu (software adapter: slower than the CPU)".to_owned(),
        ),
        (BackendChoice::WebGpu, Some(_)) => {
            (BackendKind::WebGpu, "forced by ?backend=webgpu".to_owned())
        }
        (BackendChoice::WebGpu, None) => (
            BackendKind::Cpu,
            "?backend=webgpu asked, but this browser offers no WebGPU adapter".to_owned(),
        ),
        (BackendChoice::Auto, Some(a)) if a.is_fallback => (
            BackendKind::Cpu,
            "the WebGPU adapter is a software fallback, slower than the CPU".to_owned(),
        ),
        (BackendChoice::Auto, Some(_)) => {
            (BackendKind::WebGpu, "hardware WebGPU adapter".to_owned())
        }
        (BackendChoice::Auto, None) => (
            BackendKind::Cpu,
            "this browser offers no WebGPU adapter".to_owned(),
        ),
    };
    BackendInfo {
        kind,
        adapter: adapter_name,
        reason,
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::probe_adapter;

#[cfg(all(target_arch = "wasm32", feature = "training"))]
pub use training::device_for;

#[cfg(target_arch = "wasm32")]
mod browser {
    use js_sys::Promise;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    use super::AdapterProbe;
    use crate::js::{call, get, text};

    /// Asks `navigator.gpu` (in a page or a worker) for an adapter; `None` without WebGPU.
    pub async fn probe_adapter() -> Option<AdapterProbe> {
        let gpu = get(&get(&js_sys::global(), "navigator")?, "gpu")?;
        let promise: Promise = call(&gpu, "requestAdapter", &[])?.dyn_into().ok()?;
        let adapter = JsFuture::from(promise).await.ok()?;
        if adapter.is_null() || adapter.is_undefined() {
            return None;
        }
        let info = get(&adapter, "info");
        let from_info = |key| info.as_ref().and_then(|i| text(i, key));
        let name = from_info("description").unwrap_or_else(|| {
            let parts: Vec<String> = ["vendor", "architecture", "device"]
                .into_iter()
                .filter_map(from_info)
                .collect();
            if parts.is_empty() {
                "unnamed adapter".to_owned()
            } else {
                parts.join(" ")
            }
        });
        // Newer browsers report it on `info`, older ones on the adapter itself.
        let is_fallback = info
            .as_ref()
            .and_then(|i| get(i, "isFallbackAdapter"))
            .or_else(|| get(&adapter, "isFallbackAdapter"))
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        Some(AdapterProbe { name, is_fallback })
    }
}

#[cfg(all(target_arch = "wasm32", feature = "training"))]
mod training {
    use burn::tensor::Device;

    use crate::protocol::{BackendInfo, BackendKind};

    /// The Burn device for a decision; WebGPU start-up failures fall back to the CPU, as
    /// does a worker built without WebGPU (the page starts that one only for the CPU).
    pub async fn device_for(mut info: BackendInfo) -> (Device, BackendInfo) {
        if info.kind == BackendKind::WebGpu {
            #[cfg(feature = "webgpu")]
            match Device::wgpu_options().init_async().await {
                Ok(device) => return (device, info),
                Err(e) => {
                    info.kind = BackendKind::Cpu;
                    info.reason = format!("WebGPU failed to start ({e}); using the CPU");
                }
            }
            #[cfg(not(feature = "webgpu"))]
            {
                info.kind = BackendKind::Cpu;
                info.reason = "this worker was built for the CPU only; using the CPU".into();
            }
        }
        (Device::flex(), info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(is_fallback: bool) -> AdapterProbe {
        AdapterProbe {
            name: "google swiftshader".into(),
            is_fallback,
        }
    }

    #[test]
    fn auto_uses_webgpu_only_on_hardware() {
        assert_eq!(
            decide(BackendChoice::Auto, Some(&adapter(false))).kind,
            BackendKind::WebGpu
        );
        let software = decide(BackendChoice::Auto, Some(&adapter(true)));
        assert_eq!(software.kind, BackendKind::Cpu);
        assert!(software.reason.contains("fallback"), "{}", software.reason);
        assert_eq!(software.adapter.as_deref(), Some("google swiftshader"));
        assert_eq!(decide(BackendChoice::Auto, None).kind, BackendKind::Cpu);
    }

    #[test]
    fn the_url_overrides_either_way() {
        assert_eq!(
            decide(BackendChoice::WebGpu, Some(&adapter(true))).kind,
            BackendKind::WebGpu
        );
        assert_eq!(
            decide(BackendChoice::Cpu, Some(&adapter(false))).kind,
            BackendKind::Cpu
        );
        let impossible = decide(BackendChoice::WebGpu, None);
        assert_eq!(impossible.kind, BackendKind::Cpu);
        assert!(
            impossible.reason.contains("no WebGPU"),
            "{}",
            impossible.reason
        );
    }

    #[test]
    fn backend_parameter_values() {
        assert_eq!(BackendChoice::from_param("cpu"), Some(BackendChoice::Cpu));
        assert_eq!(
            BackendChoice::from_param("webgpu"),
            Some(BackendChoice::WebGpu)
        );
        assert_eq!(BackendChoice::from_param("ndarray"), None);
    }
}
