//! The neighbour scores' distances, banks, rounding and judge.

use super::*;
use burn::tensor::Device;

fn vector(values: Vec<f32>) -> Tensor<1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), &Device::flex())
}

fn read(t: Tensor<1>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

#[test]
fn spread_is_the_mean_and_deviation_or_the_identity_for_none() {
    let spread = Spread::of(&[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(spread.mean, 2.5);
    assert!((spread.std - 1.25f32.sqrt()).abs() < 1e-6);
    assert_eq!(Spread::of(&[]), Spread::IDENTITY);
}

#[test]
fn neighbours_are_unit_rows_spaced_evenly_beyond_the_cap() {
    let kept = CombinedStatistics::neighbours_of(&[3.0, 4.0, 0.0, 2.0], 2);
    assert_eq!(
        &*kept,
        [0.6, 0.8, 0.0, 1.0].map(|v| half::f16::from_f32(v).to_f32())
    );
    let many: Vec<f32> = (0..MAX_NEIGHBOURS * 2 + 1)
        .map(|i| i as f32 + 1.0)
        .collect();
    assert_eq!(
        CombinedStatistics::neighbours_of(&many, 1).len(),
        MAX_NEIGHBOURS
    );
    // Wider latents keep fewer rows, so the bank stays within its numbers.
    let wide = 256;
    let rows: Vec<f32> = (0..MAX_NEIGHBOURS * wide).map(|i| i as f32).collect();
    let kept = CombinedStatistics::neighbours_of(&rows, wide);
    assert_eq!(kept.len(), MAX_NEIGHBOUR_VALUES);
    assert_eq!(kept.len() / wide, MAX_NEIGHBOUR_VALUES / wide);
    assert!(CombinedStatistics::neighbours_of(&[], wide).is_empty());
}

#[test]
fn a_rounded_bank_still_knows_each_training_latent_as_itself() {
    // Spread-out latents (nearly orthogonal, so each one's next nearest is far): scored
    // against a bank of themselves, each must pass over its own rounded copy, in half
    // precision and in 8 bits (whose rounding shifted similarities by up to 7e-4 before
    // the bank's rows were made unit length again).
    let device = Device::flex();
    for dim in [16, 64, 128] {
        let rows = 40;
        let mut state = 0x9E37_79B9_u32; // xorshift: uniform numbers in [-1, 1)
        let latents: Vec<f32> = (0..dim * rows)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as f32 / 2_147_483_648.0 - 1.0
            })
            .collect();
        let half = CombinedStatistics::neighbours_of(&latents, dim);
        for bank in [half.clone(), half.to_8_bit()] {
            let statistics = CombinedStatistics {
                neighbours: bank,
                ..CombinedStatistics::unfitted(dim)
            };
            let z = Tensor::<2>::from_data(TensorData::new(latents.clone(), [rows, dim]), &device);
            let distance = read(statistics.distance(z));
            assert!(distance.iter().all(|&d| d > 0.2), "{dim}: {distance:?}");
        }
    }
}

#[test]
fn a_judge_keeps_its_bank_only_for_the_statistics_it_was_made_from() {
    let device = Device::flex();
    let bank = |rows: &[f32]| CombinedStatistics {
        neighbours: CombinedStatistics::neighbours_of(rows, 2),
        ..CombinedStatistics::unfitted(2)
    };
    let (near, far) = (bank(&[1.0, 0.0, 1.0, 0.1]), bank(&[0.0, 1.0, -1.0, 1.0]));
    let z = || Tensor::<2>::from_data(TensorData::new(vec![1.0, 0.05], [1, 2]), &device);
    let judged = |score: &LatentScore| {
        let detection = Detection::from_reconstruction(
            Tensor::<4>::zeros([1, 1, 2, 2], &device),
            Tensor::<4>::zeros([1, 1, 2, 2], &device),
        );
        let scored = score.judge(z(), detection);
        read(scored.model_score.expect("a neighbour score"))
    };
    let score = LatentScore::unfitted(Some(ScoreKind::Neighbour), 2)
        .expect("a neighbour score may be chosen")
        .with_statistics(near.clone());
    let first = judged(&score);
    assert_eq!(first, read(near.distance(z())));
    assert_eq!(judged(&score), first, "the kept bank scores as a fresh one");
    let refitted = score.clone().with_statistics(far.clone());
    assert_eq!(judged(&refitted), read(far.distance(z())));
    assert_ne!(judged(&refitted), first);
    assert_eq!(
        judged(&score.clone()),
        first,
        "a clone scores as its original"
    );
}

#[test]
fn distance_is_to_the_nearest_neighbour_other_than_itself() {
    let device = Device::flex();
    let statistics = CombinedStatistics {
        neighbours: CombinedStatistics::neighbours_of(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], 2),
        ..CombinedStatistics::unfitted(2)
    };
    let z = Tensor::<2>::from_data(
        TensorData::new(vec![2.0, 0.0, -1.0, 0.0, 1.0, 0.1], [3, 2]),
        &device,
    );
    let distance = read(statistics.distance(z));
    let cos45 = 1.0 - std::f32::consts::FRAC_1_SQRT_2;
    assert!(
        (distance[0] - cos45).abs() < 1e-3,
        "a neighbour itself scores its next nearest, at 45 degrees: {distance:?}"
    );
    assert!(
        (distance[1] - 1.0).abs() < 1e-3,
        "orthogonal to the nearest: {distance:?}"
    );
    let near = 1.0 - 1.0 / 1.01f32.sqrt();
    assert!(
        (distance[2] - near).abs() < 1e-3 && distance[2] > SELF_DISTANCE,
        "close to a neighbour but not it: {distance:?}"
    );
    let none = CombinedStatistics::unfitted(2);
    let zeros = Tensor::<2>::zeros([3, 2], &device);
    assert_eq!(read(none.distance(zeros)), [0.0; 3]);
}

#[test]
fn near_duplicates_pass_over_only_their_own_entry() {
    // Three training latents a hair apart (identical parts): each, scored again, finds
    // one of the others, not the far one.
    let device = Device::flex();
    let rows = [1.0, 0.0, 1.0, 1e-3, 1.0, 2e-3, 0.0, 1.0];
    let statistics = CombinedStatistics {
        neighbours: CombinedStatistics::neighbours_of(&rows, 2),
        ..CombinedStatistics::unfitted(2)
    };
    let z = Tensor::<2>::from_data(TensorData::new(rows[..6].to_vec(), [3, 2]), &device);
    let distance = read(statistics.distance(z));
    assert!(distance.iter().all(|d| *d < 1e-3), "{distance:?}");
}

#[test]
fn the_score_sums_the_standardised_terms() {
    let device = Device::flex();
    let statistics = CombinedStatistics {
        distance: Spread {
            mean: 0.0,
            std: 1.0,
        },
        mse: Spread {
            mean: 1.0,
            std: 2.0,
        },
        ratio: Spread {
            mean: 0.5,
            std: 0.25,
        },
        ..CombinedStatistics::unfitted(2)
    };
    let z = Tensor::<2>::ones([2, 2], &device);
    let bank = statistics.bank(&z.device());
    let score = read(statistics.score(
        bank.as_ref(),
        z,
        vector(vec![3.0, 1.0]),
        vector(vec![0.5, 1.0]),
    ));
    assert_eq!(score, [1.0, 2.0]);
}

#[test]
fn statistics_round_trip_through_json_exactly() {
    let statistics = CombinedStatistics {
        neighbours: CombinedStatistics::neighbours_of(&[0.3, -0.2, 0.7, 0.1, 0.0, 1.0], 3),
        distance: Spread {
            mean: 0.1,
            std: 0.05,
        },
        ..CombinedStatistics::unfitted(3)
    };
    let json = serde_json::to_string(&statistics).unwrap();
    let back: CombinedStatistics = serde_json::from_str(&json).unwrap();
    assert_eq!(back, statistics);
    let odd = r#"{"dim":1,"neighbours":"AA==","distance":{"mean":0,"std":1},"mse":{"mean":0,"std":1},"ratio":{"mean":0,"std":1}}"#;
    let error = serde_json::from_str::<CombinedStatistics>(odd).unwrap_err();
    assert!(
        error.to_string().contains("even number of bytes"),
        "{error}"
    );
}
