//! How a checkpoint stores its numbers: weights in 32 or 16 bits, the neighbour bank's
//! latents in 16 or 8 bits ([`Latents`]).
//!
//! The shipped checkpoints are written [`Precision::Compact`] only where that moves their
//! test AUC by at most 0.001 (the CLI's `train --precision auto` checks it per file).

use std::ops::Deref;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use burn::tensor::{Bytes, DType};
use half::f16;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a checkpoint stores its weights and its neighbour bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Precision {
    /// Weights as trained (32-bit floats), the bank in half precision.
    #[default]
    Full,
    /// Weights in half precision, the bank in 8 bits per number with a half-precision
    /// scale per block of [`BLOCK`]: about half the weights and two thirds of the bank.
    Compact,
}

/// Numbers per 8-bit block, each with its own scale (as GGML's `Q8_0`).
pub const BLOCK: usize = 32;
/// What marks a bank stored in 8 bits; a bank without it is in half precision.
const BYTE_PREFIX: &str = "q8:";

/// A burnpack record (as `ModuleRecord::into_bytes` writes it) with every 32-bit float
/// tensor in half precision; loading casts them back to the model's dtype.
pub fn half_weights(burnpack: &[u8]) -> Result<Vec<u8>, burn_pack::Error> {
    let reader = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(burnpack.to_vec()))?;
    let tensors = reader
        .into_tensors()?
        .into_iter()
        .map(|tensor| {
            let (name, dtype, shape, id, bytes) = tensor.into_parts()?;
            if dtype != DType::F32 {
                return Ok(burn_pack::Tensor::new(name, dtype, shape, id, bytes));
            }
            let halves: Vec<u8> = bytes
                .chunks_exact(4)
                .flat_map(|b| {
                    f16::from_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])).to_le_bytes()
                })
                .collect();
            Ok(burn_pack::Tensor::new(
                name,
                DType::F16,
                shape,
                id,
                Bytes::from_bytes_vec(halves),
            ))
        })
        .collect::<Result<Vec<_>, burn_pack::Error>>()?;
    Ok(burn_pack::Writer::new(tensors).into_bytes()?.to_vec())
}

/// How a [`Latents`] bank is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Storage {
    #[default]
    Half,
    Byte,
}

/// The neighbour bank's latents, row-major: the values a model scores with, which are
/// exactly what its checkpoint stores (half precision, or 8 bits per number).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Latents {
    values: Vec<f32>,
    storage: Storage,
}

impl Latents {
    /// `values` rounded to half precision.
    pub fn half(values: impl IntoIterator<Item = f32>) -> Self {
        Self {
            values: values
                .into_iter()
                .map(|v| f16::from_f32(v).to_f32())
                .collect(),
            storage: Storage::Half,
        }
    }

    /// The same latents rounded to 8 bits per number, as a compact checkpoint stores them.
    pub fn to_8_bit(&self) -> Self {
        Self {
            values: decode_blocks(&encode_blocks(&self.values)),
            storage: Storage::Byte,
        }
    }

    /// Whether they are stored in 8 bits.
    pub fn is_8_bit(&self) -> bool {
        self.storage == Storage::Byte
    }
}

impl Deref for Latents {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        &self.values
    }
}

/// Each block of [`BLOCK`] numbers as its scale (half precision) and the numbers divided
/// by it, rounded to `i8`.
fn encode_blocks(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() + values.len().div_ceil(BLOCK) * 2);
    for block in values.chunks(BLOCK) {
        let max = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let scale = f16::from_f32(max / 127.0);
        out.extend_from_slice(&scale.to_le_bytes());
        let scale = scale.to_f32();
        for v in block {
            let q = if scale > 0.0 {
                (v / scale).round().clamp(-127.0, 127.0) as i8
            } else {
                0
            };
            out.extend_from_slice(&q.to_le_bytes());
        }
    }
    out
}

/// The inverse of [`encode_blocks`]: every block but the last holds [`BLOCK`] numbers.
fn decode_blocks(bytes: &[u8]) -> Vec<f32> {
    let mut values = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while rest.len() > 2 {
        let scale = f16::from_le_bytes([rest[0], rest[1]]).to_f32();
        let n = (rest.len() - 2).min(BLOCK);
        values.extend(rest[2..2 + n].iter().map(|&q| f32::from(q as i8) * scale));
        rest = &rest[2 + n..];
    }
    values
}

impl Serialize for Latents {
    /// Base64 in the JSON header: of little-endian half floats (a third of the text a
    /// list of numbers takes), or after [`BYTE_PREFIX`] of the 8-bit blocks.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.storage {
            Storage::Half => {
                let bytes: Vec<u8> = self
                    .values
                    .iter()
                    .flat_map(|&v| f16::from_f32(v).to_le_bytes())
                    .collect();
                serializer.serialize_str(&BASE64.encode(bytes))
            }
            Storage::Byte => serializer.serialize_str(&format!(
                "{BYTE_PREFIX}{}",
                BASE64.encode(encode_blocks(&self.values))
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Latents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let decode = |t: &str| BASE64.decode(t).map_err(serde::de::Error::custom);
        if let Some(blocks) = text.strip_prefix(BYTE_PREFIX) {
            let bytes = decode(blocks)?;
            if bytes.len() % (BLOCK + 2) == 1 || bytes.len() % (BLOCK + 2) == 2 {
                return Err(serde::de::Error::custom(
                    "8-bit latents end in a block with a scale and no numbers",
                ));
            }
            return Ok(Self {
                values: decode_blocks(&bytes),
                storage: Storage::Byte,
            });
        }
        let bytes = decode(&text)?;
        if bytes.len() % 2 != 0 {
            return Err(serde::de::Error::custom(
                "half-precision latents need an even number of bytes",
            ));
        }
        Ok(Self {
            values: bytes
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            storage: Storage::Half,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(latents: &Latents) -> Latents {
        let json = serde_json::to_string(latents).unwrap_or_default();
        serde_json::from_str(&json).unwrap_or_default()
    }

    #[test]
    fn a_bank_reads_back_exactly_as_the_model_scores_with_it() {
        let values: Vec<f32> = (0..100)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 71.0)
            .collect();
        let half = Latents::half(values.iter().copied());
        assert_eq!(round_trip(&half), half);
        let bytes = half.to_8_bit();
        assert!(bytes.is_8_bit() && !half.is_8_bit());
        assert_eq!(
            round_trip(&bytes),
            bytes,
            "8-bit blocks, the last one short"
        );
        assert_eq!(bytes.to_8_bit(), bytes, "rounding twice changes nothing");
        for (a, b) in values.iter().zip(bytes.iter()) {
            // Within half a step of the block's scale (max |v| / 127, here <= 0.71 / 127).
            assert!((a - b).abs() <= 0.71 / 254.0 + 1e-3, "{a} vs {b}");
        }
        let zeros = Latents::half([0.0; 5]).to_8_bit();
        assert_eq!(&*round_trip(&zeros), &[0.0; 5]);
    }

    #[test]
    fn an_8_bit_bank_is_under_three_quarters_of_the_half_precision_one() {
        let half = Latents::half((0..4096).map(|i| (i as f32).sin()));
        let size = |l: &Latents| serde_json::to_string(l).map_or(0, |s| s.len());
        assert!(size(&half.to_8_bit()) * 4 < size(&half) * 3);
    }

    #[test]
    fn a_truncated_8_bit_bank_is_refused() {
        let block = Latents::half([0.5; BLOCK]).to_8_bit();
        let mut bytes = encode_blocks(&block);
        bytes.extend_from_slice(&[0, 60]); // a scale and nothing after it
        let text = format!("\"{BYTE_PREFIX}{}\"", BASE64.encode(bytes));
        assert!(serde_json::from_str::<Latents>(&text).is_err());
    }
}
