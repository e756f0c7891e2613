//! The run's tests: data, the step loop, its fallback, the epoch choice, evaluation.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use std::cell::{Cell, RefCell};

use burn::tensor::read_sync;

use super::*;
use crate::data::Mnist;
use crate::zoo::{ModelKind, Scale};

thread_local! {
    /// Steps taken (`Trainer::step` calls) before the injected failure, if one is set.
    static FAIL_AFTER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The test-only trigger of a device failure: the step after `FAIL_AFTER` fails once.
pub(super) fn injected_failure(
    outcome: Result<Option<StepReport>, ReadError>,
) -> Result<Option<StepReport>, ReadError> {
    match FAIL_AFTER.get() {
        Some(0) => {
            FAIL_AFTER.set(None);
            Err(ReadError::Device("the device was lost (injected)".into()))
        }
        Some(n) => {
            FAIL_AFTER.set(Some(n - 1));
            outcome
        }
        None => outcome,
    }
}

/// Digit-like strokes: each label a bar at its own place, with a little noise.
fn synthetic_digits() -> Mnist {
    let (count, side) = (400, 16);
    let mut pixels = vec![0.0; count * side * side];
    let labels: Vec<u8> = (0..count).map(|i| (i % 10) as u8).collect();
    for (i, &label) in labels.iter().enumerate() {
        let row = 2 + usize::from(label);
        for x in 2..side - 2 {
            pixels[i * side * side + row * side + x] = 1.0;
            pixels[i * side * side + x * side + (i * 7) % side] = 0.2;
        }
    }
    Mnist {
        images: Images::new(pixels, count, 1, side, side).unwrap(),
        labels,
    }
}

#[test]
fn a_one_class_split_resizes_only_what_it_keeps_and_gets_the_same_images() {
    let raw = synthetic_digits();
    for channels in [1, 3] {
        let settings = RunSettings {
            input_size: 24,
            channels,
            labelled_anomalies: 0.1,
            ..settings(ModelKind::Aae)
        };
        let resized_first = Mnist {
            images: raw
                .images
                .resized(24, 24)
                .unwrap()
                .to_channels(channels)
                .unwrap(),
            labels: raw.labels.clone(),
        };
        let (after, before) = (
            RunData::mnist(&settings, &raw).unwrap(),
            RunData::mnist(&settings, &resized_first).unwrap(),
        );
        assert_eq!(after.split.train(), before.split.train());
        assert_eq!(after.split.test(), before.split.test());
        assert_eq!(
            after.split.test_is_anomaly(),
            before.split.test_is_anomaly()
        );
        assert_eq!(after.labelled, before.labelled);
        assert_eq!(after.split.train().image_shape(), [channels, 24, 24]);
        assert!(!after.labelled.is_empty());
    }
}

#[derive(Default)]
struct Watch {
    steps: RefCell<Vec<usize>>,
    fell_back: RefCell<Vec<FellBack>>,
}

impl RunObserver for Watch {
    fn step(&self, report: &StepReport) {
        self.steps.borrow_mut().push(report.progress.step);
    }
    fn fell_back(&self, event: &FellBack) {
        self.fell_back.borrow_mut().push(event.clone());
    }
}

fn settings(model: ModelKind) -> RunSettings {
    RunSettings {
        model,
        scale: Scale::Compact,
        protocol: DataProtocol::OneClass { digit: 0 },
        batch_size: 8,
        input_size: 16,
        // 16 steps an epoch: a copy every 4.
        max_train: Some(128),
        max_test: Some(40),
        ..RunSettings::default()
    }
}

#[test]
fn a_run_whose_device_fails_goes_on_from_its_last_copy() {
    for model in [
        ModelKind::ConvAutoencoder,
        ModelKind::Ganomaly,
        ModelKind::Aae,
    ] {
        let settings = settings(model);
        let data = RunData::mnist(&settings, &synthetic_digits()).unwrap();
        let device = Device::flex();
        let watch = Watch::default();
        FAIL_AFTER.set(Some(6));
        let trained = read_sync(train_falling_back(
            &settings, &data, &device, &device, &watch,
        ))
        .unwrap();
        let event = FellBack {
            failed_at: 7,
            resumed_from: 4,
            reason: "reading results from the device failed: the device was lost (injected)".into(),
        };
        assert_eq!(trained.fell_back.as_ref(), Some(&event), "{model:?}");
        assert_eq!(*watch.fell_back.borrow(), [event], "{model:?}");
        // Steps 5 and 6 are taken again from the copy made after step 4.
        let steps: Vec<usize> = (1..=6).chain(5..=16).collect();
        assert_eq!(*watch.steps.borrow(), steps, "{model:?}");
        assert_eq!(trained.steps, 16);
        assert!(!trained.stopped_early);
        let evaluated = read_sync(evaluate_run(
            &trained,
            &data,
            None,
            &[ThresholdMethod::MaxNormal],
            &device,
        ))
        .unwrap();
        assert!(evaluated.evaluation.auc.is_some_and(f64::is_finite));
    }
}

/// Every float parameter's values.
#[derive(Default)]
struct Values(Vec<Vec<f32>>);

impl burn::module::ModuleVisitor for Values {
    fn visit_float<const D: usize>(
        &mut self,
        param: &burn::module::Param<burn::tensor::Tensor<D>>,
    ) {
        let data = param.val().into_data();
        self.0.push(data.try_to_vec::<f32>().unwrap());
    }
}

#[test]
fn a_copy_of_a_run_stays_as_it_was_while_the_run_goes_on() {
    use burn::module::Module;
    let settings = settings(ModelKind::ConvAutoencoder);
    let data = RunData::mnist(&settings, &synthetic_digits()).unwrap();
    let config = settings.model_config().unwrap();
    let training = TrainingConfig::new().with_batch_size(8);
    let device = Device::flex();
    let train = data.split.train();
    let mut trainer = AnyTrainer::new(&config, &training, train, &data.labelled, &device);
    read_sync(trainer.step()).unwrap();
    let copy = read_sync(trainer.copy_to(&device)).unwrap();
    // Weights and batch norm's running statistics, in visiting order.
    let recorded = |t: &AnyTrainer| {
        let mut values = Values::default();
        t.clone().into_model().unwrap().visit(&mut values);
        values.0
    };
    let before = recorded(&copy);
    let original = recorded(&trainer);
    for (i, (a, b)) in before.iter().zip(&original).enumerate() {
        assert_eq!(a, b, "parameter {i} of {}", before.len());
    }
    assert_eq!(before, original, "the copy has the run's values");
    for _ in 0..3 {
        read_sync(trainer.step()).unwrap();
    }
    assert_ne!(recorded(&trainer), before, "the run went on");
    assert_eq!(recorded(&copy), before, "its copy did not");
}

#[test]
fn every_trainer_follows_the_runs_learning_rate_schedule() {
    use crate::settings::LearningRateSchedule;
    for model in [
        ModelKind::FcAutoencoder,
        ModelKind::Ganomaly,
        ModelKind::Aae,
    ] {
        let settings = settings(model);
        let data = RunData::mnist(&settings, &synthetic_digits()).unwrap();
        let config = settings.model_config().unwrap();
        let losses = |schedule| {
            let training = TrainingConfig::new()
                .with_batch_size(8)
                .with_epochs(1)
                .with_learning_rate_schedule(Some(schedule));
            let train = data.split.train();
            let device = Device::flex();
            let mut trainer = AnyTrainer::new(&config, &training, train, &data.labelled, &device);
            (0..3)
                .map(|_| read_sync(trainer.step()).unwrap().unwrap().losses[0].1)
                .collect::<Vec<f32>>()
        };
        let constant = losses(LearningRateSchedule::Constant);
        let cosine = losses(LearningRateSchedule::Cosine);
        // Losses are read before each step's update: the third is the first after a
        // step at a lower rate.
        assert_eq!(
            constant[..2],
            cosine[..2],
            "{model:?}: the first step at the rate"
        );
        assert_ne!(constant[2], cosine[2], "{model:?}: the second below it");
    }
}

#[test]
fn a_run_without_a_fallback_fails_with_its_device() {
    let settings = settings(ModelKind::ConvAutoencoder);
    let data = RunData::mnist(&settings, &synthetic_digits()).unwrap();
    FAIL_AFTER.set(Some(2));
    let failed = read_sync(train(&settings, &data, &Device::flex(), &Watch::default()));
    FAIL_AFTER.set(None);
    assert!(
        matches!(failed, Err(RunError::Read(ReadError::Device(ref e))) if e.contains("injected")),
        "{:?}",
        failed.err()
    );
}
