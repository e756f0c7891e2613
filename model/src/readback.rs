//! A module's weights copied to the CPU with asynchronous reads only.
//!
//! WebGPU in a browser reads tensors back asynchronously or not at all, and Burn's records
//! (what a checkpoint holds) read them synchronously. So a model trained there is first
//! brought to the CPU with [`to_host`], then recorded.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};

/// Why a model's weights could not be read back from its device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not read the model's weights back from the device: {0}")]
pub struct ReadbackError(String);

/// A copy of `module` (a model done training) whose every parameter lives on the CPU
/// ([`Device::flex`]), read back from wherever it is with asynchronous reads; it keeps what
/// is not a parameter (fitted statistics).
pub async fn to_host<M: Module>(module: &M) -> Result<M, ReadbackError> {
    // Not a clone: Burn's clones share their running statistics (batch norm's), and the
    // copy's would then move `module`'s to the CPU too. Its inference copy has its own.
    copy_into(module, module.valid(), &Device::flex()).await
}

/// `fresh` (a module of `source`'s structure, such as one built by the same configuration)
/// with `source`'s values, read back with asynchronous reads and placed on `device`; each
/// parameter takes gradients as `fresh`'s does.
pub async fn copy_into<M: Module>(
    source: &M,
    fresh: M,
    device: &Device,
) -> Result<M, ReadbackError> {
    let mut collected = Collect::default();
    // Its inference copy: running statistics brought up to date with the last step's.
    source.valid().visit(&mut collected);
    let mut read = Vec::with_capacity(collected.tensors.len());
    for tensor in collected.tensors {
        let data = match tensor {
            Flat::Float(t) => t.into_data_async().await,
            Flat::Int(t) => t.into_data_async().await,
        };
        let data = data.map_err(|e| ReadbackError(crate::score::device_failure(&e)))?;
        // Copied into memory of our own now: a GPU readback's bytes may still be the
        // device's mapped staging buffer, read lazily, and gone if the device is lost.
        let owned = TensorData::from_bytes_vec(
            data.as_bytes().to_vec(),
            data.shape().clone(),
            data.dtype(),
        );
        read.push(owned);
    }
    let mut place = Place {
        data: read.into_iter(),
        device: device.clone(),
    };
    let moved = fresh.map(&mut place);
    // Visiting and mapping walk the same fields in the same order, so every read is used.
    debug_assert!(place.data.next().is_none());
    Ok(moved)
}

/// [`copy_into`] a module built by `build` on `device`, for a module a run holds only
/// between steps (`None` stays `None`).
pub async fn copy_some<M: Module>(
    source: Option<&M>,
    build: impl FnOnce(&Device) -> M,
    device: &Device,
) -> Result<Option<M>, ReadbackError> {
    match source {
        Some(source) => Ok(Some(copy_into(source, build(device), device).await?)),
        None => Ok(None),
    }
}

/// A parameter flattened to one dimension, so tensors of every rank fit one list.
enum Flat {
    Float(Tensor<1>),
    Int(Tensor<1, Int>),
}

#[derive(Default)]
struct Collect {
    tensors: Vec<Flat>,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.tensors
            .push(Flat::Float(param.val().flatten(0, D - 1)));
    }

    fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<D, Int>>) {
        self.tensors.push(Flat::Int(param.val().flatten(0, D - 1)));
    }
}

/// Replaces each parameter, in visiting order, by its read-back values on `device`.
struct Place {
    data: std::vec::IntoIter<TensorData>,
    device: Device,
}

impl ModuleMapper for Place {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        match self.data.next() {
            Some(data) => param.map(|t| {
                let shape = t.shape();
                Tensor::<1>::from_data(data, &self.device)
                    .reshape(shape)
                    .set_require_grad(t.is_require_grad())
            }),
            None => param,
        }
    }

    fn map_int<const D: usize>(&mut self, param: Param<Tensor<D, Int>>) -> Param<Tensor<D, Int>> {
        match self.data.next() {
            Some(data) => param.map(|t| {
                let shape = t.shape();
                Tensor::<1, Int>::from_data(data, &self.device).reshape(shape)
            }),
            None => param,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ganomaly::GanomalyConfig;

    #[test]
    fn a_model_read_back_records_the_same_weights() {
        let device = Device::flex();
        let model = GanomalyConfig::new()
            .with_input_size(16)
            .with_features(4)
            .init(&device);
        let host = burn::tensor::read_sync(to_host(&model)).expect("read back");
        let before = model.into_record().into_bytes().expect("record");
        let after = host.into_record().into_bytes().expect("record");
        assert!(!before.is_empty());
        assert_eq!(before.to_vec(), after.to_vec());
    }

    #[test]
    fn a_copy_for_training_keeps_taking_gradients() {
        let device = Device::flex().autodiff();
        let model = GanomalyConfig::new()
            .with_input_size(16)
            .with_features(4)
            .init(&device);
        let fresh = GanomalyConfig::new()
            .with_input_size(16)
            .with_features(4)
            .init(&device);
        let copy = burn::tensor::read_sync(copy_into(&model, fresh, &device)).expect("read back");
        let (mut before, mut after) = (Trainable::default(), Trainable::default());
        model.visit(&mut before);
        copy.visit(&mut after);
        // Weights take gradients, batch norm's running statistics do not: kept as they were.
        assert!(before.0.iter().any(|&g| g) && before.0.iter().any(|&g| !g));
        assert_eq!(before.0, after.0);
    }

    /// Whether each float parameter takes gradients, in visiting order.
    #[derive(Default)]
    struct Trainable(Vec<bool>);

    impl ModuleVisitor for Trainable {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.val().is_require_grad());
        }
    }
}
