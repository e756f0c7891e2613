//! Opening a model: a shipped or imported checkpoint evaluated on the data it was trained
//! for, or a kept one restored with the results it was kept with.

use burn::tensor::Device;
use kizu_model::checkpoint::{Checkpoint, CheckpointMeta};
use kizu_model::data::{Protocol, Target};
use kizu_model::detector::{score_images, Detector, Normalised};
use kizu_model::eval::{evaluate_test, Evaluation, HISTOGRAM_BINS};
use kizu_model::run::RunData;
use kizu_model::settings::DataProtocol;
use kizu_model::threshold::{fit, ThresholdMethod};
use kizu_model::zoo::AnyDetector;

use super::views::{model_view, samples, TestImages, Tested};
use super::{
    data_error, run_error, Current, Failure, Host, Session, OPENED_TEST_IMAGES, OPENED_TRAIN_IMAGES,
};
use crate::protocol::{CommandId, Event, ModelOrigin, ModelView, Reply, SessionError};

impl Session {
    /// Reads checkpoint bytes and builds their detector on the session's device; `check`
    /// may refuse the file first. Every refusal names `file`.
    pub(super) async fn load<H: Host>(
        &mut self,
        id: CommandId,
        file: &str,
        bytes: &[u8],
        host: &H,
        check: impl FnOnce(&Checkpoint) -> Result<(), String>,
    ) -> Result<(Checkpoint, AnyDetector, Device), Failure> {
        let refused = |reason: String| SessionError::Checkpoint {
            file: file.to_owned(),
            reason,
        };
        let checkpoint = Checkpoint::from_bytes(bytes).map_err(|e| refused(e.to_string()))?;
        check(&checkpoint).map_err(refused)?;
        let (device, _) = self.device(id, host).await;
        let detector = checkpoint
            .detector(&device)
            .map_err(|e| refused(e.to_string()))?;
        Ok((checkpoint, detector, device))
    }

    /// Opens checkpoint bytes as the current model and evaluates it on the bundled data
    /// it was trained for (or the loaded images). A refused file leaves the model as it was.
    pub(super) async fn open<H: Host>(
        &mut self,
        id: CommandId,
        file: &str,
        bytes: &[u8],
        origin: ModelOrigin,
        host: &H,
    ) -> Result<Event, Failure> {
        let (checkpoint, detector, device) = self.load(id, file, bytes, host, |_| Ok(())).await?;
        if checkpoint.meta.series.is_some() {
            return self
                .open_series(checkpoint, detector, &device, origin, host)
                .await;
        }
        let meta = &checkpoint.meta;
        let settings = meta.shown_on(OPENED_TRAIN_IMAGES, OPENED_TEST_IMAGES);
        let data = match settings.protocol {
            DataProtocol::Images => self
                .image_split(Target::of(&settings), settings.seed)
                .ok()
                .and_then(|split| RunData::images(&settings, split).ok()),
            _ => {
                let mnist = self.mnist(id, host).await?;
                Some(RunData::mnist(&settings, mnist).map_err(data_error)?)
            }
        };
        host.emit(Reply {
            id,
            event: Event::Phase("scoring".into()),
        });
        host.pause().await;
        let model = Normalised::new(&detector, meta.normalisation());
        let (view, test) = match data {
            Some(data) => {
                let split = data.split.as_ref();
                let evaluation = evaluate_opened(&model, split, meta, &device).await?;
                let test = TestImages::of(split);
                let scale = meta.difference_scale();
                let samples = samples(&model, &test, meta.score, scale, &device).await?;
                let on = Some(settings.clone());
                let tested = Some(Tested::images(split));
                let view = model_view(origin, meta, tested, evaluation, samples, on);
                (view, Some(test))
            }
            None => {
                let evaluation = Evaluation {
                    score_kind: meta.score,
                    thresholds: vec![meta.threshold],
                    train_scores: Vec::new(),
                    test_scores: Vec::new(),
                    test_latents: Vec::new(),
                    latent_dim: 0,
                    auc: None,
                    histogram: kizu_model::metrics::Histogram::new(&[], &[], HISTOGRAM_BINS, &[]),
                };
                (
                    model_view(origin, meta, None, evaluation, Vec::new(), None),
                    None,
                )
            }
        };
        let evaluated_on = test.is_some().then_some(settings);
        self.current = Some(Current {
            checkpoint,
            detector,
            test,
            evaluated_on,
        });
        Ok(Event::Model(Box::new(view)))
    }

    /// Opens kept checkpoint bytes as the current model with the results it was kept with.
    pub(super) async fn restore<H: Host>(
        &mut self,
        id: CommandId,
        name: &str,
        bytes: &[u8],
        view: ModelView,
        origin: ModelOrigin,
        host: &H,
    ) -> Result<Event, Failure> {
        let (checkpoint, detector, _) = self
            .load(id, name, bytes, host, |checkpoint| {
                let kind = checkpoint.meta.model.model_kind();
                if kind == view.model {
                    Ok(())
                } else {
                    Err(format!(
                        "its results are of a {} but its checkpoint holds a {kind}",
                        view.model
                    ))
                }
            })
            .await?;
        self.current = Some(Current {
            checkpoint,
            detector,
            test: None,
            evaluated_on: view.evaluated_on.clone(),
        });
        Ok(Event::Model(Box::new(ModelView { origin, ..view })))
    }
}

/// Scores a shipped or imported model's test images against its own threshold, plus
/// those fitted beside it ([`ThresholdMethod::beside`]) on its training images' scores.
async fn evaluate_opened(
    model: &impl Detector,
    split: &dyn Protocol,
    meta: &CheckpointMeta,
    device: &Device,
) -> Result<Evaluation, Failure> {
    let (score, own) = (meta.score, meta.threshold);
    let batch = meta.batch_rows();
    let train = score_images(model, split.train(), batch, device)
        .await
        .map_err(run_error)?;
    let thresholds = std::iter::once(Ok(own))
        .chain(ThresholdMethod::beside(own.method).map(|m| fit(m, train.of(score))))
        .filter_map(Result::ok)
        .collect();
    let evaluation = evaluate_test(model, split, score, thresholds, batch, device)
        .await
        .map_err(run_error)?;
    Ok(evaluation.with_train_scores(train.of(score).to_vec()))
}
