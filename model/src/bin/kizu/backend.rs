//! Which Burn device the commands run on.

use burn::tensor::Device;
use clap::ValueEnum;

use crate::AnyError;

#[derive(Clone, Copy, ValueEnum, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// The GPU where the tool was built with one (`gpu` feature) and the machine has a
    /// hardware adapter; flex otherwise.
    Auto,
    /// Burn's flex CPU backend (~40x faster conv gradients than ndarray).
    Flex,
    /// Burn's ndarray CPU backend.
    Ndarray,
    /// Burn's wgpu GPU backend (Vulkan where the machine has it).
    #[cfg(feature = "gpu")]
    Gpu,
}

impl Backend {
    /// The device this backend runs on, and the backend actually chosen (for `Auto`).
    pub(crate) fn device(self) -> Result<(Device, Backend), AnyError> {
        match self {
            Self::Auto => Ok(auto_device()),
            Self::Flex => Ok((Device::flex(), self)),
            Self::Ndarray => Ok((Device::ndarray(), self)),
            #[cfg(feature = "gpu")]
            Self::Gpu => Ok((gpu_device()?, self)),
        }
    }
}

/// The GPU if there is a hardware one, else flex; says which on stderr.
pub(crate) fn auto_device() -> (Device, Backend) {
    #[cfg(feature = "gpu")]
    match gpu_device() {
        Ok(device) => return (device, Backend::Gpu),
        Err(e) => eprintln!("no GPU ({e}); training on the CPU (flex)"),
    }
    (Device::flex(), Backend::Flex)
}

/// Burn's wgpu device on a hardware adapter; an error for none or a software one (a
/// software rasteriser trains slower than flex).
#[cfg(feature = "gpu")]
pub(crate) fn gpu_device() -> Result<Device, AnyError> {
    use burn::tensor::wgpu::wgpu::DeviceType;
    let (device, setup) = Device::wgpu_options().init_with_setup()?;
    let info = setup.adapter.get_info();
    if info.device_type == DeviceType::Cpu {
        return Err(format!("adapter {} is a software one", info.name).into());
    }
    eprintln!("GPU: {} ({:?})", info.name, info.backend);
    Ok(device)
}
