//! Kept models in the browser's IndexedDB (through `idb`): a list entry, the results and
//! the checkpoint of each, under one key in three object stores, so the list reads no
//! checkpoint bytes.

use idb::{Database, Error, ObjectStore, Query, TransactionMode, TransactionResult};
use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};

use crate::library::{KeptId, KeptModel, StoreError};
use crate::protocol::ModelView;

const DATABASE: &str = "kizu";
const VERSION: u32 = 1;
const MODELS: &str = "models";
const VIEWS: &str = "views";
const CHECKPOINTS: &str = "checkpoints";
const ALL: [&str; 3] = [MODELS, VIEWS, CHECKPOINTS];

async fn open() -> Result<Database, StoreError> {
    ALL.iter()
        .fold(Database::builder(DATABASE).version(VERSION), |db, name| {
            db.add_object_store(ObjectStore::builder(name))
        })
        .build()
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// The storage's error in the page's words; a full quota is told apart.
fn failed(error: Error) -> StoreError {
    let quota = match &error {
        Error::DomException(e) => e.name() == "QuotaExceededError",
        other => other.to_string().contains("QuotaExceededError"),
    };
    if quota {
        StoreError::Full
    } else {
        StoreError::Failed(error.to_string())
    }
}

fn key(id: KeptId) -> JsValue {
    JsValue::from_f64(id as f64)
}

fn json<T: serde::Serialize>(value: &T) -> Result<JsValue, StoreError> {
    serde_json::to_string(value)
        .map(|s| JsValue::from_str(&s))
        .map_err(|e| StoreError::Failed(e.to_string()))
}

fn parse<T: serde::de::DeserializeOwned>(value: &JsValue) -> Result<T, StoreError> {
    let text = value
        .as_string()
        .ok_or_else(|| StoreError::Corrupt("not text".into()))?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Waits for a read-write transaction; an abort (a full quota) is an error.
async fn commit(store: &ObjectStore, transaction: idb::Transaction) -> Result<(), StoreError> {
    // The transaction's own error says why it aborted; read it from a second handle.
    let handle = store.transaction();
    match transaction.await.map_err(failed)? {
        TransactionResult::Committed => Ok(()),
        TransactionResult::Aborted => Err(match handle.error() {
            Some(e) if e.name() == "QuotaExceededError" => StoreError::Full,
            Some(e) => StoreError::Failed(format!("{}: {}", e.name(), e.message())),
            None => StoreError::Failed("the write was aborted".into()),
        }),
    }
}

/// Every kept model, as the list shows them; an unreadable entry is skipped.
pub async fn list() -> Result<Vec<KeptModel>, StoreError> {
    let db = open().await?;
    let transaction = db
        .transaction(&[MODELS], TransactionMode::ReadOnly)
        .map_err(failed)?;
    let store = transaction.object_store(MODELS).map_err(failed)?;
    let values = store
        .get_all(None, None)
        .map_err(failed)?
        .await
        .map_err(failed)?;
    Ok(values.iter().filter_map(|v| parse(v).ok()).collect())
}

/// Keeps `view`'s model with its checkpoint; its key is the time now, made unique.
pub async fn keep(view: &ModelView, checkpoint: &[u8]) -> Result<KeptModel, StoreError> {
    let db = open().await?;
    let transaction = db
        .transaction(&ALL, TransactionMode::ReadWrite)
        .map_err(failed)?;
    let models = transaction.object_store(MODELS).map_err(failed)?;
    let now = js_sys::Date::now();
    let mut id = now as KeptId;
    while models
        .get(Query::from(key(id)))
        .map_err(failed)?
        .await
        .map_err(failed)?
        .is_some()
    {
        id += 1;
    }
    let kept = KeptModel::of(view, id, now, checkpoint.len() as u64);
    models
        .add(&json(&kept)?, Some(&key(id)))
        .map_err(failed)?
        .await
        .map_err(failed)?;
    let views = transaction.object_store(VIEWS).map_err(failed)?;
    views
        .add(&json(view)?, Some(&key(id)))
        .map_err(failed)?
        .await
        .map_err(failed)?;
    let files = transaction.object_store(CHECKPOINTS).map_err(failed)?;
    let bytes: JsValue = Uint8Array::from(checkpoint).into();
    files
        .add(&bytes, Some(&key(id)))
        .map_err(failed)?
        .await
        .map_err(failed)?;
    commit(&models, transaction).await?;
    Ok(kept)
}

/// A kept model's entry, its results (`None` when they cannot be read back, e.g. kept by
/// an older version of the page) and its checkpoint.
pub async fn load(id: KeptId) -> Result<(KeptModel, Option<ModelView>, Vec<u8>), StoreError> {
    let db = open().await?;
    let transaction = db
        .transaction(&ALL, TransactionMode::ReadOnly)
        .map_err(failed)?;
    let get = |name: &'static str| {
        let store = transaction.object_store(name).map_err(failed);
        async move {
            store?
                .get(Query::from(key(id)))
                .map_err(failed)?
                .await
                .map_err(failed)?
                .ok_or(StoreError::Missing)
        }
    };
    let kept: KeptModel = parse(&get(MODELS).await?)?;
    let view = parse(&get(VIEWS).await?).ok();
    let bytes = get(CHECKPOINTS)
        .await?
        .dyn_into::<Uint8Array>()
        .map_err(|_| StoreError::Corrupt("the checkpoint is not bytes".into()))?
        .to_vec();
    Ok((kept, view, bytes))
}

/// Renames a kept model.
pub async fn rename(id: KeptId, name: &str) -> Result<(), StoreError> {
    let db = open().await?;
    let transaction = db
        .transaction(&[MODELS], TransactionMode::ReadWrite)
        .map_err(failed)?;
    let models = transaction.object_store(MODELS).map_err(failed)?;
    let value = models
        .get(Query::from(key(id)))
        .map_err(failed)?
        .await
        .map_err(failed)?
        .ok_or(StoreError::Missing)?;
    let kept = KeptModel {
        name: name.to_owned(),
        ..parse(&value)?
    };
    models
        .put(&json(&kept)?, Some(&key(id)))
        .map_err(failed)?
        .await
        .map_err(failed)?;
    commit(&models, transaction).await
}

/// Deletes a kept model: its entry, results and checkpoint.
pub async fn delete(id: KeptId) -> Result<(), StoreError> {
    let db = open().await?;
    let transaction = db
        .transaction(&ALL, TransactionMode::ReadWrite)
        .map_err(failed)?;
    for name in ALL {
        let store = transaction.object_store(name).map_err(failed)?;
        store
            .delete(Query::from(key(id)))
            .map_err(failed)?
            .await
            .map_err(failed)?;
    }
    let models = transaction.object_store(MODELS).map_err(failed)?;
    commit(&models, transaction).await
}
