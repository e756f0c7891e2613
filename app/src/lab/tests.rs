//! The page's state: how each reply and command moves it.

use kizu_model::catalog::CatalogEntry;
use kizu_model::zoo::ModelKind;

use super::*;
use crate::protocol::{DataProtocol, GalleryImages, Refusal, RunSettings, SessionError};

fn view() -> ModelView {
    let mut view =
        crate::steer::tests::view(&[], &[0.1, 0.2, 0.7, 0.9], &[false, false, true, true]);
    view.thresholds[0].threshold.value = 0.5;
    view.auc = Some(1.0);
    view.steps = Some(3);
    view
}

fn reply(id: CommandId, event: Event) -> Reply {
    Reply { id, event }
}

#[test]
fn a_training_run_goes_busy_collects_losses_and_ends_with_its_model() {
    let mut lab = Lab::new(false);
    let command = lab.command(Action::Train(RunSettings::default()));
    assert!(lab.is_busy());
    assert_eq!(lab.phase, Phase::Busy("training".into()));
    let step = |n| StepReport {
        epoch: 0,
        step: n,
        total_steps: 2,
        losses: vec![("G".into(), 1.0 / n as f32), ("D".into(), 0.5)],
        elapsed_ms: 40.0 * n as f64,
    };
    lab.apply(reply(command.id, Event::Steps(vec![step(1), step(2)])));
    assert_eq!(lab.losses.steps(), 2);
    // 40 ms a step, 2 of 2 done: nothing left.
    assert_eq!(
        lab.last_step.as_ref().and_then(StepReport::pace),
        Some((40.0, 0.0))
    );
    assert_eq!(lab.losses.series[1].0, "D");
    lab.apply(reply(command.id, Event::Model(Box::new(view()))));
    assert!(!lab.is_busy());
    assert_eq!(lab.phase, Phase::Done);
    assert!(lab.model.is_some());
}

#[test]
fn a_run_that_falls_back_shows_the_cpu_and_drops_the_steps_taken_again() {
    let mut lab = Lab::new(false);
    let command = lab.command(Action::Train(RunSettings::default()));
    let step = |n| StepReport {
        epoch: 0,
        step: n,
        total_steps: 8,
        losses: vec![("G".into(), 1.0 / n as f32)],
        elapsed_ms: 40.0 * n as f64,
    };
    lab.apply(reply(command.id, Event::Steps((1..=6).map(step).collect())));
    let cpu = BackendInfo {
        kind: crate::protocol::BackendKind::Cpu,
        adapter: Some("gpu".into()),
        reason: "WebGPU failed at step 7 (lost); training went on on the CPU from step 4".into(),
    };
    lab.apply(reply(
        command.id,
        Event::FellBack {
            backend: cpu.clone(),
            resumed_from: 4,
        },
    ));
    assert_eq!(lab.losses.steps(), 4);
    assert_eq!(lab.backend, Some(cpu));
    assert!(lab.is_busy(), "the run goes on");
    lab.apply(reply(command.id, Event::Steps((5..=8).map(step).collect())));
    assert_eq!(
        lab.losses.series[0].1,
        (1..=8).map(|n| 1.0 / n as f32).collect::<Vec<_>>()
    );
}

#[test]
fn a_refusal_is_shown_and_a_failure_keeps_the_model() {
    let mut lab = Lab::new(false);
    let first = lab.command(Action::Train(RunSettings::default()));
    lab.apply(reply(first.id, Event::Model(Box::new(view()))));
    let import = lab.command(Action::ImportCheckpoint(FileBytes {
        path: "bad.kizu".into(),
        bytes: vec![1, 2, 3],
    }));
    lab.apply(reply(
        import.id,
        Event::Failed(SessionError::Checkpoint {
            file: "bad.kizu".into(),
            reason: "not a Kizu checkpoint".into(),
        }),
    ));
    assert_eq!(
        lab.phase,
        Phase::Failed("bad.kizu: not a Kizu checkpoint".into())
    );
    assert!(lab.model.is_some(), "the model is kept");
    assert!(!lab.is_busy());
    // A refusal for a command while another runs leaves the running one alone.
    let running = lab.command(Action::Train(RunSettings::default()));
    lab.apply(reply(
        running.id + 100,
        Event::Refused(Refusal::Busy {
            running: "training".into(),
        }),
    ));
    assert!(lab.is_busy());
    assert_eq!(
        lab.notice.as_deref(),
        Some("busy training: wait for it to finish (or stop it)")
    );
}

#[test]
fn the_catalogue_opens_the_best_shipped_model_once() {
    let entry = |file: &str, auc| CatalogEntry {
        file: file.into(),
        model: ModelKind::Ganomaly,
        protocol: DataProtocol::OneClass { digit: 0 },
        auc: Some(auc),
        bytes: 10,
    };
    let catalog = Catalog {
        entries: vec![entry("a.kizu", 0.6), entry("b.kizu", 0.8)],
    };
    let mut lab = Lab::new(true);
    let hello = lab.command(Action::Hello {
        base_url: "http://x/".into(),
        backend: Default::default(),
    });
    let next = lab.apply(reply(hello.id, Event::Catalog(catalog.clone())));
    assert_eq!(
        next,
        Some(Next::Send(Action::OpenShipped {
            file: "b.kizu".into()
        }))
    );
    assert_eq!(
        Lab::new(false).apply(reply(1, Event::Catalog(catalog))),
        None
    );
}

#[test]
fn a_link_opens_its_shipped_checkpoint_and_refuses_one_not_shipped() {
    let entry = |file: &str| CatalogEntry {
        file: file.into(),
        model: ModelKind::Ganomaly,
        protocol: DataProtocol::OneClass { digit: 0 },
        auc: Some(0.7),
        bytes: 10,
    };
    let catalog = Catalog {
        entries: vec![entry("a.kizu"), entry("b.kizu")],
    };
    let open = |name: &str| {
        let mut lab = Lab::opening(Opening::Shipped(name.into()));
        let next = lab.apply(reply(1, Event::Catalog(catalog.clone())));
        (next, lab.link_note)
    };
    assert_eq!(
        open("a.kizu"),
        (
            Some(Next::Send(Action::OpenShipped {
                file: "a.kizu".into()
            })),
            None
        )
    );
    // Unknown: the best (the later of two equals) opens instead.
    let (next, note) = open("c.kizu");
    assert_eq!(
        next,
        Some(Next::Send(Action::OpenShipped {
            file: "b.kizu".into()
        }))
    );
    assert!(note
        .unwrap()
        .contains("“c.kizu”, which this page does not ship"));
}

#[test]
fn a_links_threshold_waits_for_the_run_it_belongs_to() {
    let mut lab = Lab::new(false);
    lab.threshold_from_link(("percentile".into(), "50".into()), None);
    let c = lab.command(Action::OpenShipped {
        file: "a.kizu".into(),
    });
    let mut shipped = view();
    shipped.origin = ModelOrigin::Shipped("a.kizu".into());
    lab.apply(reply(c.id, Event::Model(Box::new(shipped))));
    assert_eq!(
        lab.threshold.as_ref().map(|t| t.choice),
        Some(crate::steer::Choice::Own)
    );
    let c = lab.command(Action::Train(RunSettings::default()));
    lab.apply(reply(c.id, Event::Model(Box::new(view()))));
    let t = lab.threshold.clone().unwrap();
    assert_eq!(t.ids(), Some(("percentile".into(), "50".into())));
    // Once: the next run keeps its own.
    let c = lab.command(Action::Train(RunSettings::default()));
    lab.apply(reply(c.id, Event::Model(Box::new(view()))));
    assert_eq!(lab.threshold.unwrap().choice, crate::steer::Choice::Own);
}

#[test]
fn confusion_follows_any_threshold() {
    let mut lab = Lab::new(false);
    let c = lab.command(Action::Train(RunSettings::default()));
    lab.apply(reply(c.id, Event::Model(Box::new(view()))));
    let at = |t| {
        lab.confusion_at(t)
            .map(|c| (c.true_positives, c.false_positives))
    };
    assert_eq!(at(0.5), Some((2, 0)));
    assert_eq!(at(0.15), Some((2, 1)));
    assert_eq!(at(0.95), Some((0, 0)));
}

fn kept(id: KeptId, name: &str, saved_ms: f64) -> KeptModel {
    KeptModel {
        name: name.into(),
        ..KeptModel::of(&view(), id, saved_ms, 1_000)
    }
}

#[test]
fn a_trained_model_is_kept_through_an_export_and_a_download_is_not_kept() {
    let mut lab = Lab::new(false);
    let train = lab.command(Action::Train(RunSettings::default()));
    let next = lab.apply(reply(train.id, Event::Model(Box::new(view()))));
    assert_eq!(next, Some(Next::Send(Action::ExportCheckpoint)));
    let export = lab.command(Action::ExportCheckpoint);
    let file = FileBytes {
        path: "conv-ae-digit0.kizu".into(),
        bytes: vec![7; 10],
    };
    let next = lab.apply(reply(export.id, Event::Checkpoint(file.clone())));
    assert_eq!(
        next,
        Some(Next::Keep(Box::new(Keep {
            view: view(),
            checkpoint: vec![7; 10]
        })))
    );
    assert_eq!(lab.download, None, "keeping is not a download");
    assert!(!lab.is_busy());
    // The user's own download afterwards is one.
    let download = lab.command(Action::ExportCheckpoint);
    assert_eq!(
        lab.apply(reply(download.id, Event::Checkpoint(file.clone()))),
        None
    );
    assert_eq!(lab.download, Some(file));
}

#[test]
fn shipped_and_kept_models_are_not_kept_again_and_a_failed_keep_is_a_notice() {
    let mut lab = Lab::new(false);
    for origin in [
        ModelOrigin::Shipped("a.kizu".into()),
        ModelOrigin::Kept {
            id: 1,
            name: "mine".into(),
        },
    ] {
        let open = lab.command(Action::Forget);
        let model = ModelView { origin, ..view() };
        assert_eq!(
            lab.apply(reply(open.id, Event::Model(Box::new(model)))),
            None
        );
    }
    let import = lab.command(Action::ImportCheckpoint(FileBytes {
        path: "x.kizu".into(),
        bytes: vec![1],
    }));
    let imported = ModelView {
        origin: ModelOrigin::Imported("x.kizu".into()),
        ..view()
    };
    let next = lab.apply(reply(import.id, Event::Model(Box::new(imported))));
    assert_eq!(next, Some(Next::Send(Action::ExportCheckpoint)));
    let export = lab.command(Action::ExportCheckpoint);
    lab.apply(reply(
        export.id,
        Event::Failed(SessionError::Run("no weights".into())),
    ));
    assert_eq!(lab.phase, Phase::Done, "the model opened fine");
    assert_eq!(
        lab.storage_notice.as_deref(),
        Some("not kept in this browser: no weights")
    );
    assert!(lab.model.is_some());
}

#[test]
fn the_kept_list_follows_the_storage() {
    let mut lab = Lab::new(false);
    lab.apply_store(StoreEvent::Listed(vec![
        kept(1, "old", 10.0),
        kept(2, "new", 20.0),
    ]));
    assert_eq!(lab.kept[0].name, "new", "newest first");
    lab.apply_store(StoreEvent::Kept(kept(3, "newest", 30.0)));
    assert_eq!(lab.kept.len(), 3);
    assert_eq!(lab.kept[0].id, 3);
    assert_eq!(
        lab.storage_notice.as_deref(),
        Some("kept in this browser as “newest”")
    );
    // Renaming the open kept model renames it on the page too.
    let open = lab.command(Action::Forget);
    let model = ModelView {
        origin: ModelOrigin::Kept {
            id: 1,
            name: "old".into(),
        },
        ..view()
    };
    lab.apply(reply(open.id, Event::Model(Box::new(model))));
    lab.apply_store(StoreEvent::Renamed {
        id: 1,
        name: "line 2".into(),
    });
    assert_eq!(lab.kept[2].name, "line 2");
    assert_eq!(lab.storage_notice.as_deref(), Some("renamed to “line 2”"));
    assert_eq!(
        lab.model.as_ref().map(|m| m.origin.clone()),
        Some(ModelOrigin::Kept {
            id: 1,
            name: "line 2".into()
        })
    );
    lab.apply_store(StoreEvent::Deleted(2));
    assert_eq!(lab.kept.iter().map(|k| k.id).collect::<Vec<_>>(), [3, 1]);
    lab.apply_store(StoreEvent::Failed {
        doing: "keeping the model",
        error: StoreError::Full,
    });
    assert!(lab
        .storage_notice
        .as_deref()
        .is_some_and(|n| n.starts_with("keeping the model failed: the browser's storage")));
    assert_eq!(lab.kept.len(), 2, "nothing lost");
}

#[test]
fn the_confusion_follows_the_threshold_as_it_moves() {
    let mut lab = Lab::new(false);
    let run = lab.command(Action::Train(RunSettings::default()));
    lab.apply(reply(run.id, Event::Model(Box::new(view()))));
    // The model's own threshold, 0.5: both anomalies flagged, no normal image.
    assert_eq!(lab.threshold_value(), Some(0.5));
    let at = |lab: &Lab| {
        let c = lab.confusion_at(lab.threshold_value().unwrap()).unwrap();
        (c.true_positives, c.false_positives)
    };
    assert_eq!(at(&lab), (2, 0));
    lab.steer(Steered::manual(0.15));
    assert_eq!(at(&lab), (2, 1), "the normal 0.2 is now a false alarm");
    lab.steer(Steered::manual(0.8));
    assert_eq!(at(&lab), (1, 0), "the anomaly at 0.7 now passes");
    // A new model brings its own threshold back.
    let again = lab.command(Action::Train(RunSettings::default()));
    lab.apply(reply(again.id, Event::Model(Box::new(view()))));
    assert_eq!(lab.threshold_value(), Some(0.5));
}

#[test]
fn the_gallery_asks_quietly_for_the_images_it_lacks() {
    let mut lab = Lab::new(false);
    let run = lab.command(Action::Train(RunSettings::default()));
    assert_eq!(
        lab.gallery_request(&lab.gallery_order()),
        None,
        "not while training"
    );
    lab.apply(reply(run.id, Event::Model(Box::new(view()))));
    let Some(Action::Gallery { indices }) = lab.gallery_request(&lab.gallery_order()) else {
        panic!("the first page is asked for");
    };
    assert_eq!(indices, [0, 1, 2, 3]);
    assert_eq!(lab.gallery_order(), [3, 2, 1, 0], "most anomalous first");
    let phase = lab.phase.clone();
    let draw = lab.command(Action::Gallery {
        indices: indices.clone(),
    });
    assert_eq!(lab.phase, phase, "drawing does not change the phase");
    assert_eq!(
        lab.gallery_request(&lab.gallery_order()),
        None,
        "one request at a time"
    );
    // The worker says which backend draws: the request is still out.
    let cpu = crate::backend::decide(crate::protocol::BackendChoice::Cpu, None);
    lab.apply(reply(draw.id, Event::Backend(cpu)));
    assert!(lab.is_busy() && lab.gallery.pending);
    assert_eq!(
        lab.gallery_request(&lab.gallery_order()),
        None,
        "still one request at a time"
    );
    lab.apply(reply(
        draw.id,
        Event::Gallery(GalleryImages {
            indices,
            samples: [0.1, 0.2, 0.7, 0.9]
                .map(crate::gallery::tests::sample)
                .to_vec(),
        }),
    ));
    assert!(!lab.is_busy());
    assert_eq!(lab.phase, phase);
    assert_eq!(lab.gallery.images.len(), 4);
    assert_eq!(
        lab.gallery_request(&lab.gallery_order()),
        None,
        "everything is drawn"
    );
    // Filtered to the flagged normal images at 0.15: only the one at 0.2.
    lab.steer(Steered::manual(0.15));
    lab.gallery.filter(
        crate::gallery::LabelFilter::Normal,
        crate::gallery::VerdictFilter::Flagged,
    );
    assert_eq!(lab.gallery_order(), [1]);
    // A refused request is a notice, and the gallery may ask again.
    let again = lab.command(Action::Gallery { indices: vec![9] });
    lab.apply(reply(
        again.id,
        Event::Refused(Refusal::NoSuchTestImage { index: 9, len: 4 }),
    ));
    assert!(lab
        .notice
        .as_deref()
        .is_some_and(|n| n.contains("no test image 9")));
    assert!(!lab.gallery.pending && !lab.is_busy());
    // It does not ask again and again; opening another image does.
    lab.gallery.filter(
        crate::gallery::LabelFilter::All,
        crate::gallery::VerdictFilter::All,
    );
    lab.gallery.images.clear();
    lab.gallery.stalled = true;
    assert_eq!(lab.gallery_request(&lab.gallery_order()), None);
    lab.gallery.open(Some(2));
    assert!(lab.gallery_request(&lab.gallery_order()).is_some());
}
