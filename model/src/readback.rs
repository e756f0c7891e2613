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

/// A copy of `module` whose every parameter lives on the CPU ([`Device::flex`]), read back
/// from wherever it is with asynchronous reads.
pub async fn to_host<M: Module>(module: &M) -> Result<M, ReadbackError> {
    let mut collected = Collect::default();
    module.visit(&mut collected);
    let mut read = Vec::with_capacity(collected.tensors.len());
    for tensor in collected.tensors {
        let data = match tensor {
            Flat::Float(t) => t.into_data_async().await,
            Flat::Int(t) => t.into_data_async().await,
        };
        read.push(data.map_err(|e| ReadbackError(format!("{e:?}")))?);
    }
    let mut place = Place {
        data: read.into_iter(),
        device: Device::flex(),
    };
    let moved = module.clone().map(&mut place);
    // Visiting and mapping walk the same fields in the same order, so every read is used.
    debug_assert!(place.data.next().is_none());
    Ok(moved)
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
                Tensor::<1>::from_data(data, &self.device).reshape(shape)
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
}
