//! A user's own images and the protocol that trains on their normal ones.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{DataError, ImageClass, Images, Part, Placement, Protocol};

/// Decoded images of one shape, each with its name (its path in the folder) and where the
/// folder's layout puts it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    images: Images,
    names: Vec<String>,
    placements: Vec<Placement>,
}

impl ImageSet {
    /// Joins images with their names and placements, one of each per image.
    pub fn new(
        images: Images,
        names: Vec<String>,
        placements: Vec<Placement>,
    ) -> Result<Self, DataError> {
        for labels in [names.len(), placements.len()] {
            if labels != images.len() {
                return Err(DataError::CountMismatch {
                    images: images.len(),
                    labels,
                });
            }
        }
        Ok(Self {
            images,
            names,
            placements,
        })
    }

    /// The images.
    pub fn images(&self) -> &Images {
        &self.images
    }

    /// Each image's name.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Each image's part and class.
    pub fn placements(&self) -> &[Placement] {
        &self.placements
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// Whether a split can train on it: a normal image lies under `train/` or outside
    /// `test/` (else [`ImageSplit::new`] fails with [`DataError::NoNormalImages`]).
    pub fn has_training_image(&self) -> bool {
        self.placements
            .iter()
            .any(|p| p.part != Part::Test && !p.class.is_anomaly())
    }
}

/// The protocol for a user's images: train on the normal ones, test on the rest.
///
/// Training takes every normal image under `train/` and, of the normal images outside
/// train/test, all but a `test_fraction` held out with the seed. Testing takes every image
/// under `test/`, those held-out normals and every defect outside it (a defect under
/// `train/` too: a detector never trains on a defect). Both sets are shuffled with the
/// seed, so their first images are a fair sample.
///
/// The test set may be empty, for instance when a folder holds only `train/good/`: the
/// detector then trains, and there is nothing to evaluate it on.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSplit {
    train: Images,
    train_names: Vec<String>,
    test: Images,
    test_names: Vec<String>,
    test_classes: Vec<ImageClass>,
    test_is_anomaly: Vec<bool>,
}

impl ImageSplit {
    /// Splits `set`, holding out `test_fraction` (in [0, 1]) of the unassigned normal images
    /// and shuffling with `seed`.
    ///
    /// When no normal image lies under `train/`, at least one unassigned normal image
    /// still trains, whatever the fraction; with none at all, the split fails with
    /// [`DataError::NoNormalImages`].
    pub fn new(set: &ImageSet, seed: u64, test_fraction: f64) -> Result<Self, DataError> {
        if !(0.0..=1.0).contains(&test_fraction) {
            return Err(DataError::Fraction {
                name: "test_fraction",
                value: test_fraction as f32,
            });
        }
        if !set.has_training_image() {
            return Err(DataError::NoNormalImages);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut train, mut unassigned, mut test) = (Vec::new(), Vec::new(), Vec::new());
        for (i, placement) in set.placements.iter().enumerate() {
            match (placement.part, placement.class.is_anomaly()) {
                (Part::Train, false) => train.push(i),
                (Part::Unassigned, false) => unassigned.push(i),
                _ => test.push(i),
            }
        }
        unassigned.shuffle(&mut rng);
        let mut held_out = (unassigned.len() as f64 * test_fraction).round() as usize;
        if train.is_empty() {
            held_out = held_out.min(unassigned.len().saturating_sub(1));
        }
        let kept = unassigned.split_off(held_out.min(unassigned.len()));
        train.extend(kept);
        test.extend(unassigned);
        train.shuffle(&mut rng);
        test.shuffle(&mut rng);
        let names = |idx: &[usize]| idx.iter().map(|&i| set.names[i].clone()).collect();
        let test_classes: Vec<ImageClass> = test
            .iter()
            .map(|&i| set.placements[i].class.clone())
            .collect();
        Ok(Self {
            train: set.images.select(&train),
            train_names: names(&train),
            test: set.images.select(&test),
            test_names: names(&test),
            test_is_anomaly: test_classes.iter().map(ImageClass::is_anomaly).collect(),
            test_classes,
        })
    }

    /// Each training image's name.
    pub fn train_names(&self) -> &[String] {
        &self.train_names
    }

    /// Each test image's name.
    pub fn test_names(&self) -> &[String] {
        &self.test_names
    }

    /// Each test image's class (`good` or the defect's folder).
    pub fn test_classes(&self) -> &[ImageClass] {
        &self.test_classes
    }

    /// Keeps at most `max_train` training and `max_test` test images (a quick run); both
    /// sets are shuffled, so their first images are a fair sample.
    pub fn truncated(mut self, max_train: usize, max_test: usize) -> Self {
        let keep = |images: &mut Images, max: usize| {
            if images.len() > max {
                *images = images.select(&(0..max).collect::<Vec<_>>());
            }
        };
        keep(&mut self.train, max_train);
        self.train_names.truncate(max_train);
        keep(&mut self.test, max_test);
        self.test_names.truncate(max_test);
        self.test_classes.truncate(max_test);
        self.test_is_anomaly.truncate(max_test);
        self
    }
}

impl Protocol for ImageSplit {
    fn train(&self) -> &Images {
        &self.train
    }
    fn test(&self) -> &Images {
        &self.test
    }
    fn test_is_anomaly(&self) -> &[bool] {
        &self.test_is_anomaly
    }
    fn test_label(&self, index: usize) -> String {
        format!("{} ({})", self.test_names[index], self.test_classes[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A set whose image `k` is one pixel of value `k`, so every image says where it came
    /// from, placed as `placements` say.
    fn set(placements: &[(Part, &str)]) -> ImageSet {
        let n = placements.len();
        let images = Images::new((0..n).map(|k| k as f32).collect(), n, 1, 1, 1).unwrap();
        let placements = placements
            .iter()
            .map(|&(part, class)| Placement {
                part,
                class: match class {
                    "good" => ImageClass::Good,
                    defect => ImageClass::Defect(defect.to_owned()),
                },
            })
            .collect();
        ImageSet::new(
            images,
            (0..n).map(|k| format!("img{k}")).collect(),
            placements,
        )
        .unwrap()
    }

    fn sources(images: &Images) -> Vec<usize> {
        let mut found: Vec<usize> = images.pixels().iter().map(|&p| p as usize).collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn train_part_trains_and_test_part_tests() {
        use Part::{Test, Train};
        let set = set(&[
            (Train, "good"),
            (Train, "good"),
            (Test, "good"),
            (Test, "scratch"),
            (Train, "dent"),
        ]);
        let split = ImageSplit::new(&set, 1, 0.2).unwrap();
        assert_eq!(sources(split.train()), [0, 1]);
        assert_eq!(sources(split.test()), [2, 3, 4]);
        for (i, name) in split.test_names().iter().enumerate() {
            let k = split.test().image(i)[0] as usize;
            assert_eq!(name, &format!("img{k}"));
            assert_eq!(split.test_classes()[i], set.placements()[k].class);
            assert_eq!(split.test_is_anomaly()[i], k >= 3);
        }
        let k = split.train().image(0)[0] as usize;
        assert_eq!(split.train_names()[0], format!("img{k}"));
    }

    #[test]
    fn unassigned_normals_are_held_out_and_defects_tested() {
        let mut placements = vec![(Part::Unassigned, "good"); 10];
        placements.push((Part::Unassigned, "scratch"));
        let set = set(&placements);
        let split = ImageSplit::new(&set, 7, 0.2).unwrap();
        assert_eq!(split.train().len(), 8);
        assert_eq!(split.test().len(), 3);
        assert_eq!(split.test_is_anomaly().iter().filter(|&&a| a).count(), 1);
        let mut all = sources(split.train());
        all.extend(sources(split.test()));
        all.sort_unstable();
        assert_eq!(all, (0..11).collect::<Vec<_>>());
        assert_eq!(split, ImageSplit::new(&set, 7, 0.2).unwrap());
        assert_ne!(
            split.train(),
            ImageSplit::new(&set, 8, 0.2).unwrap().train()
        );
    }

    #[test]
    fn only_training_images_leave_an_empty_test_set() {
        let set = set(&[(Part::Train, "good"), (Part::Train, "good")]);
        let split = ImageSplit::new(&set, 0, 0.2).unwrap();
        assert_eq!(split.train().len(), 2);
        assert!(split.test().is_empty());
        assert_eq!(split.test().image_shape(), [1, 1, 1]);
        assert!(split.test_names().is_empty() && split.test_is_anomaly().is_empty());
    }

    #[test]
    fn one_unassigned_normal_still_trains() {
        let set = set(&[(Part::Unassigned, "good"), (Part::Unassigned, "dent")]);
        let split = ImageSplit::new(&set, 0, 1.0).unwrap();
        assert_eq!(sources(split.train()), [0]);
        assert_eq!(sources(split.test()), [1]);
    }

    #[test]
    fn no_normal_image_is_refused() {
        let defects = set(&[(Part::Test, "good"), (Part::Unassigned, "scratch")]);
        let err = ImageSplit::new(&defects, 0, 0.2).unwrap_err();
        assert_eq!(err, DataError::NoNormalImages);
        assert!(err
            .to_string()
            .contains("no normal (good) images to train on"));
        let good = set(&[(Part::Unassigned, "good")]);
        for bad in [-0.1, 1.5, f64::NAN] {
            assert!(matches!(
                ImageSplit::new(&good, 0, bad),
                Err(DataError::Fraction { .. })
            ));
        }
    }

    #[test]
    fn truncation_keeps_the_columns_aligned() {
        let mut placements = vec![(Part::Train, "good"); 6];
        placements.extend([(Part::Test, "good"), (Part::Test, "a"), (Part::Test, "b")]);
        let split = ImageSplit::new(&set(&placements), 3, 0.2)
            .unwrap()
            .truncated(4, 2);
        assert_eq!((split.train().len(), split.train_names().len()), (4, 4));
        assert_eq!(split.test().len(), 2);
        assert_eq!(split.test_names().len(), 2);
        assert_eq!(split.test_classes().len(), 2);
        assert_eq!(split.test_is_anomaly().len(), 2);
    }

    #[test]
    fn names_and_placements_must_match_the_images() {
        let images = Images::new(vec![0.0; 2], 2, 1, 1, 1).unwrap();
        let err = ImageSet::new(images, vec!["a".into()], Vec::new()).unwrap_err();
        assert_eq!(
            err,
            DataError::CountMismatch {
                images: 2,
                labels: 1
            }
        );
    }
}
