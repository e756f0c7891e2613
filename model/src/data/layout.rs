//! Where a file of a user's folder belongs, from its relative path alone.
//!
//! Two layouts are understood, with folder names compared case-insensitively:
//! - MVTec AD (and anomalib's `Folder`): `<any>/train/good/x.png` trains,
//!   `<any>/test/good/x.png` and `<any>/test/<defect>/x.png` test, `<any>/ground_truth/..`
//!   holds masks and is skipped;
//! - a simple one: `good/x.png` (or `normal/`, `ok/`) is normal, `<defect>/x.png` is a
//!   defect, and a file outside any folder is normal (dropped images are training data).
//!
//! Which images train and which test is then [`ImageSplit`](super::ImageSplit)'s choice.

use std::collections::BTreeMap;
use std::fmt;

/// Folder names (lower case) that hold normal images.
pub const GOOD_FOLDERS: [&str; 3] = ["good", "normal", "ok"];

/// Folder names (lower case) of ground-truth masks, which are not images to learn from.
pub const MASK_FOLDERS: [&str; 4] = ["ground_truth", "ground-truth", "groundtruth", "masks"];

/// File extensions (lower case) taken for images. TIFF is among them so that a TIFF file is
/// refused by the decoder as an unsupported format, a clearer reason than "not an image".
pub const IMAGE_EXTENSIONS: [&str; 9] = [
    "png", "jpg", "jpeg", "jpe", "bmp", "webp", "gif", "tif", "tiff",
];

/// Which part of the dataset's own split an image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// Under a `train/` folder.
    Train,
    /// Under a `test/` folder.
    Test,
    /// Neither: the split is Kizu's to make.
    Unassigned,
}

/// What an image shows, as its folder says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImageClass {
    /// A normal image.
    Good,
    /// A defect, named by its folder (`scratch`, `broken_large`).
    Defect(String),
}

impl ImageClass {
    /// Whether the image is an anomaly.
    pub fn is_anomaly(&self) -> bool {
        matches!(self, Self::Defect(_))
    }

    /// `good`, or the defect's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Good => "good",
            Self::Defect(name) => name,
        }
    }
}

impl fmt::Display for ImageClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an image belongs: the part of the dataset and its class.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Placement {
    /// Train, test or neither.
    pub part: Part,
    /// Normal or which defect.
    pub class: ImageClass,
}

/// Why a file of a folder is not an image to load; each names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    /// A hidden or system file (`.DS_Store`, `._x.png`, anything under `__MACOSX/`).
    #[error("{file}: skipped, a hidden or system file")]
    Hidden {
        /// The path.
        file: String,
    },
    /// A file whose name is not an image's (`notes.txt`, `README`).
    #[error("{file}: skipped, not an image file by its name (.png, .jpg, .bmp, .webp, .gif)")]
    NotImageName {
        /// The path.
        file: String,
    },
    /// A ground-truth mask (under `ground_truth/`).
    #[error("{file}: skipped, a ground-truth mask, not an image to learn from")]
    Mask {
        /// The path.
        file: String,
    },
    /// A file right in `test/`, outside `test/good/` or `test/<defect>/`: its class is unknown.
    #[error("{file}: skipped, a test image outside a class folder (test/good/ or test/<defect>/), so whether it is normal is unknown")]
    Unlabelled {
        /// The path.
        file: String,
    },
    /// An empty path or a folder's.
    #[error("{file:?}: skipped, not a file's path")]
    NotAFile {
        /// The path.
        file: String,
    },
}

impl Skip {
    /// The path skipped.
    pub fn file(&self) -> &str {
        match self {
            Self::Hidden { file }
            | Self::NotImageName { file }
            | Self::Mask { file }
            | Self::Unlabelled { file }
            | Self::NotAFile { file } => file,
        }
    }

    /// The reason in a few words, for counts ("3 files skipped (ground-truth mask)").
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Hidden { .. } => "hidden or system file",
            Self::NotImageName { .. } => "not an image file",
            Self::Mask { .. } => "ground-truth mask",
            Self::Unlabelled { .. } => "test image outside a class folder",
            Self::NotAFile { .. } => "not a file",
        }
    }
}

/// Where the files of one selection belong. A browser's `webkitRelativePath` starts with
/// the name of the folder the user picked (`photos/x.png`); that shared folder is the
/// dataset's root, not a class, so [`Layout::of`] finds it and [`place`](Self::place)
/// looks below it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    root: Vec<String>,
}

impl Layout {
    /// The layout of a selection: its root is the folder every image path shares (hidden
    /// files and other non-images do not count).
    ///
    /// A selection whose images all lie in one folder therefore counts them as normal,
    /// whatever that folder is called: a picked `photos/` and a picked `scratch/` look
    /// the same.
    pub fn of<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        let mut root: Option<Vec<&str>> = None;
        for path in paths {
            let parts = components(path);
            let Some((file, dirs)) = parts.split_last() else {
                continue;
            };
            if is_hidden(&parts) || !has_image_extension(file) {
                continue;
            }
            root = Some(match root {
                None => dirs.to_vec(),
                Some(shared) => shared
                    .iter()
                    .zip(dirs)
                    .take_while(|(a, b)| a == b)
                    .map(|(a, _)| *a)
                    .collect(),
            });
        }
        Self {
            root: root
                .unwrap_or_default()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }

    /// The folders every image of the selection lies under (empty if none).
    pub fn root(&self) -> &[String] {
        &self.root
    }

    /// Where the file at `path` belongs, or why it is skipped.
    ///
    /// Under a `train/` or `test/` folder (the last one in the path), the first folder below
    /// it names the class, unless a `good/` (`normal/`, `ok/`) folder lies anywhere below,
    /// which makes it normal; a file right in `train/` is normal, one right in `test/` is
    /// skipped. Elsewhere the same rule applies below the layout's root, and a file right
    /// in the root is normal.
    pub fn place(&self, path: &str) -> Result<Placement, Skip> {
        let file = || path.to_owned();
        let parts = components(path);
        let Some((name, dirs)) = parts.split_last() else {
            return Err(Skip::NotAFile { file: file() });
        };
        if path.ends_with(['/', '\\']) {
            return Err(Skip::NotAFile { file: file() });
        }
        if is_hidden(&parts) {
            return Err(Skip::Hidden { file: file() });
        }
        if !has_image_extension(name) {
            return Err(Skip::NotImageName { file: file() });
        }
        if dirs.iter().any(|d| is_one_of(d, &MASK_FOLDERS)) {
            return Err(Skip::Mask { file: file() });
        }
        let split = dirs.iter().enumerate().rev().find_map(|(i, d)| {
            let lower = d.to_ascii_lowercase();
            match lower.as_str() {
                "train" | "training" => Some((i, Part::Train)),
                "test" | "testing" => Some((i, Part::Test)),
                _ => None,
            }
        });
        let (part, below) = match split {
            Some((i, part)) => (part, &dirs[i + 1..]),
            None => {
                let shared = self
                    .root
                    .iter()
                    .zip(dirs)
                    .take_while(|(a, b)| a == b)
                    .count();
                (Part::Unassigned, &dirs[shared..])
            }
        };
        let class = match below.first() {
            None if part == Part::Test => return Err(Skip::Unlabelled { file: file() }),
            None => ImageClass::Good,
            Some(_) if below.iter().any(|d| is_one_of(d, &GOOD_FOLDERS)) => ImageClass::Good,
            Some(first) => ImageClass::Defect((*first).to_owned()),
        };
        Ok(Placement { part, class })
    }

    /// Counts of the images (by part and class) and of the skipped files of `paths`.
    pub fn summarise<'a>(&self, paths: impl IntoIterator<Item = &'a str>) -> LayoutSummary {
        let mut summary = LayoutSummary::default();
        for path in paths {
            match self.place(path) {
                Ok(placement) => summary.add(&placement),
                Err(skip) => summary.add_skip(&skip),
            }
        }
        summary
    }
}

/// Where the file at `path`, relative to the dataset's root, belongs (see
/// [`Layout::place`]); for a selection whose paths start with the picked folder's name,
/// use [`Layout::of`] first.
pub fn place(path: &str) -> Result<Placement, Skip> {
    Layout::default().place(path)
}

/// How many images each part and class holds, and how many files were skipped and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayoutSummary {
    images: BTreeMap<Placement, usize>,
    skipped: BTreeMap<&'static str, usize>,
}

impl LayoutSummary {
    /// Counts one image.
    pub fn add(&mut self, placement: &Placement) {
        *self.images.entry(placement.clone()).or_default() += 1;
    }

    /// Counts one skipped file under its reason.
    pub fn add_skip(&mut self, skip: &Skip) {
        *self.skipped.entry(skip.reason()).or_default() += 1;
    }

    /// Images in `part` of `class`.
    pub fn count(&self, part: Part, class: &ImageClass) -> usize {
        let key = Placement {
            part,
            class: class.clone(),
        };
        self.images.get(&key).copied().unwrap_or(0)
    }

    /// Images counted, in every part and class.
    pub fn images(&self) -> usize {
        self.images.values().sum()
    }

    /// Files skipped, for every reason.
    pub fn skipped(&self) -> usize {
        self.skipped.values().sum()
    }

    /// One line per folder ("train/good: 200 images", "test/scratch: 12 images (defect)";
    /// images outside train/test read "good: 30 images"), train, test and the rest in that
    /// order, normal first; then one line per skip reason ("5 files skipped (ground-truth
    /// mask)").
    pub fn lines(&self) -> Vec<String> {
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("1 {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        let images = self.images.iter().map(|(placement, &n)| {
            let prefix = match placement.part {
                Part::Train => "train/",
                Part::Test => "test/",
                Part::Unassigned => "",
            };
            let kind = if placement.class.is_anomaly() {
                " (defect)"
            } else {
                ""
            };
            format!("{prefix}{}: {}{kind}", placement.class, plural(n, "image"))
        });
        let skipped = self
            .skipped
            .iter()
            .map(|(reason, &n)| format!("{} skipped ({reason})", plural(n, "file")));
        images.chain(skipped).collect()
    }
}

impl fmt::Display for LayoutSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lines().join("\n"))
    }
}

/// The path's names, with `\` taken as a separator too (a Windows relative path) and empty
/// or `.` names dropped.
fn components(path: &str) -> Vec<&str> {
    path.split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// Whether any name is hidden (`.DS_Store`, `._x.png`, `.git`) or macOS's zip residue.
fn is_hidden(parts: &[&str]) -> bool {
    parts
        .iter()
        .any(|c| c.starts_with('.') || c.eq_ignore_ascii_case("__MACOSX"))
}

fn has_image_extension(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && is_one_of(ext, &IMAGE_EXTENSIONS))
}

fn is_one_of(name: &str, names: &[&str]) -> bool {
    names.iter().any(|n| name.eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(part: Part, class: &str) -> Placement {
        let class = match class {
            "good" => ImageClass::Good,
            defect => ImageClass::Defect(defect.to_owned()),
        };
        Placement { part, class }
    }

    #[test]
    fn the_mvtec_layout_gives_parts_and_classes() {
        assert_eq!(
            place("bottle/train/good/000.png"),
            Ok(placed(Part::Train, "good"))
        );
        assert_eq!(
            place("bottle/test/good/001.png"),
            Ok(placed(Part::Test, "good"))
        );
        assert_eq!(
            place("bottle/test/broken_large/002.png"),
            Ok(placed(Part::Test, "broken_large"))
        );
        assert_eq!(
            place("data/Bottle/TEST/Good/003.PNG"),
            Ok(placed(Part::Test, "good"))
        );
        assert_eq!(place("train/x.png"), Ok(placed(Part::Train, "good")));
        assert!(matches!(
            place("bottle/ground_truth/broken_large/002_mask.png"),
            Err(Skip::Mask { .. })
        ));
        let unlabelled = place("bottle/test/004.png").unwrap_err();
        assert!(matches!(unlabelled, Skip::Unlabelled { .. }));
        assert!(unlabelled.to_string().contains("bottle/test/004.png"));
    }

    #[test]
    fn the_simple_layout_is_unassigned() {
        assert_eq!(place("good/a.png"), Ok(placed(Part::Unassigned, "good")));
        assert_eq!(place("Normal/a.jpg"), Ok(placed(Part::Unassigned, "good")));
        assert_eq!(place("OK/a.jpeg"), Ok(placed(Part::Unassigned, "good")));
        assert_eq!(
            place("scratch/a.png"),
            Ok(placed(Part::Unassigned, "scratch"))
        );
        assert_eq!(
            place("good/2023/a.png"),
            Ok(placed(Part::Unassigned, "good"))
        );
        assert_eq!(place("a.webp"), Ok(placed(Part::Unassigned, "good")));
        assert_eq!(
            place(r"scratch\a.bmp"),
            Ok(placed(Part::Unassigned, "scratch"))
        );
    }

    #[test]
    fn hidden_and_other_files_are_skipped_with_a_reason() {
        for hidden in [
            ".DS_Store",
            "good/._a.png",
            "__MACOSX/good/a.png",
            ".git/x.png",
        ] {
            assert!(
                matches!(place(hidden), Err(Skip::Hidden { .. })),
                "{hidden}"
            );
        }
        for other in ["notes.txt", "good/README", "good/.png", "good/a.png.zip"] {
            let skip = place(other).unwrap_err();
            assert!(matches!(
                skip,
                Skip::Hidden { .. } | Skip::NotImageName { .. }
            ));
            assert!(skip.to_string().starts_with(other), "{skip}");
        }
        assert!(matches!(place(""), Err(Skip::NotAFile { .. })));
        assert!(matches!(place("good/"), Err(Skip::NotAFile { .. })));
    }

    #[test]
    fn a_picked_folder_is_the_root_not_a_class() {
        // A browser's paths start with the picked folder: `photos` is not a defect.
        let paths = ["photos/a.png", "photos/b.png", "photos/.DS_Store"];
        let layout = Layout::of(paths);
        assert_eq!(layout.root(), ["photos"]);
        assert_eq!(
            layout.place("photos/a.png"),
            Ok(placed(Part::Unassigned, "good"))
        );
        let paths = [
            "widgets/good/a.png",
            "widgets/scratch/b.png",
            "widgets/notes.txt",
        ];
        let layout = Layout::of(paths);
        assert_eq!(layout.root(), ["widgets"]);
        assert_eq!(
            layout.place("widgets/scratch/b.png"),
            Ok(placed(Part::Unassigned, "scratch"))
        );
        // Train and test folders are found even inside the root.
        let layout = Layout::of(["test/scratch/a.png", "test/scratch/b.png"]);
        assert_eq!(
            layout.place("test/scratch/a.png"),
            Ok(placed(Part::Test, "scratch"))
        );
        assert!(Layout::of(["x.txt"]).root().is_empty());
    }

    #[test]
    fn the_summary_counts_per_folder() {
        let paths = [
            "bottle/train/good/0.png",
            "bottle/train/good/1.png",
            "bottle/test/good/0.png",
            "bottle/test/scratch/0.png",
            "bottle/test/scratch/1.png",
            "bottle/ground_truth/scratch/0_mask.png",
            "bottle/license.txt",
            "bottle/.DS_Store",
        ];
        let summary = Layout::of(paths).summarise(paths);
        assert_eq!(summary.images(), 5);
        assert_eq!(summary.skipped(), 3);
        assert_eq!(summary.count(Part::Train, &ImageClass::Good), 2);
        assert_eq!(
            summary.count(Part::Test, &ImageClass::Defect("scratch".into())),
            2
        );
        assert_eq!(
            summary.to_string(),
            "train/good: 2 images\n\
             test/good: 1 image\n\
             test/scratch: 2 images (defect)\n\
             1 file skipped (ground-truth mask)\n\
             1 file skipped (hidden or system file)\n\
             1 file skipped (not an image file)"
        );
        let simple = Layout::of(["a.png", "dent/b.png"]).summarise(["a.png", "dent/b.png"]);
        assert_eq!(simple.lines(), ["good: 1 image", "dent: 1 image (defect)"]);
    }
}
