//! Every result the app holds, with the counts, histogram and the filtered,
//! sorted row list the table and gallery show. Rows are recomputed only
//! when results, filter or sort change, so large result sets stay smooth.

use std::cmp::Ordering;

use crate::error::ErrorKind;
use crate::export::Provenance;
use crate::labels::Gender;
use crate::postprocess::{FaceResult, ImageResult, Status};

pub const HISTOGRAM_BINS: usize = 20;
/// Ages in bins of ten years; the last holds everyone from 90 up.
pub const AGE_BINS: usize = 10;
pub const AGE_BIN_YEARS: f32 = 10.0;
/// The top of the age filter's range; at this value it has no upper bound.
pub const AGE_FILTER_MAX: u32 = 100;

/// What a failed photo is called in the window: whose fault it is, in plain words.
pub fn error_wording(kind: Option<ErrorKind>) -> &'static str {
    match kind {
        Some(ErrorKind::Input) => "cannot read",
        Some(ErrorKind::Upstream) => "server error",
        Some(ErrorKind::Internal) | None => "error",
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub images: usize,
    pub faces: usize,
    pub female: usize,
    pub male: usize,
    pub uncertain: usize,
    pub no_face: usize,
    pub errors: usize,
    /// Faces a person labelled in the review.
    pub corrected: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RowMode {
    #[default]
    PerFace,
    PerImage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub female: bool,
    pub male: bool,
    pub no_face: bool,
    pub errors: bool,
    pub uncertain_only: bool,
    /// Faces whose age lies in `age_from..=age_to` years; at
    /// `AGE_FILTER_MAX`, `age_to` means "and older".
    pub age_from: u32,
    pub age_to: u32,
    /// Case-insensitive part of the path.
    pub text: String,
}

impl Filter {
    /// True when the age range lets every face through.
    pub fn ages_all(&self) -> bool {
        self.age_from == 0 && self.age_to >= AGE_FILTER_MAX
    }

    /// A face without an age (from a server that gives none) passes only
    /// while the range is open.
    fn age_matches(&self, age: Option<f32>) -> bool {
        if self.ages_all() {
            return true;
        }
        let Some(age) = age else {
            return false;
        };
        let above_top = self.age_to < AGE_FILTER_MAX && age >= self.age_to as f32 + 1.0;
        age >= self.age_from as f32 && !above_top
    }
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            female: true,
            male: true,
            no_face: true,
            errors: true,
            uncertain_only: false,
            age_from: 0,
            age_to: AGE_FILTER_MAX,
            text: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortColumn {
    /// The order photos were added.
    #[default]
    Added,
    Path,
    Gender,
    Score,
    PMale,
    Age,
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub column: SortColumn,
    pub descending: bool,
}

/// A result's place in the store: what the views select, and what pictures
/// are cached under. Not the result's `index` (its place in its batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResultId(pub usize);

impl std::fmt::Display for ResultId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a result came from, in the order rows are shown by default:
/// batches in the order they ran, then result files in the order opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// The library, as it was when the app started.
    Library,
    /// Batch number `n` of this session.
    Batch(u64),
    /// The `n`th results file opened.
    File(u64),
}

/// One table row: a photo, and one of its faces in per-face mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub image: ResultId,
    pub face: Option<usize>,
}

#[derive(Default)]
pub struct ResultStore {
    images: Vec<ImageResult>,
    /// Where each photo's result is, by its path.
    by_path: std::collections::HashMap<std::path::PathBuf, usize>,
    provenance: Vec<Provenance>,
    /// (origin, position there: the input index in a batch, the line in a
    /// file): the order photos were added, whatever order results arrived in.
    added: Vec<(Origin, usize)>,
    counts: Counts,
    /// Faces per p_male bin, split by label: `[female, male]`.
    histogram: [[u32; HISTOGRAM_BINS]; 2],
    /// Faces per age bin, split by label the same way.
    age_histogram: [[u32; AGE_BINS]; 2],
    generation: u64,
    view: Option<(ViewKey, Vec<Row>)>,
    /// Where each result's current answer came from (its place in `added`
    /// stays where it was first added).
    answered_by: Vec<Origin>,
    /// Bumped when results come in (new or answered anew), not when a
    /// person relabels a face: what the review's face list depends on.
    arrivals: u64,
    /// Results answered anew in their place since last asked: their
    /// pictures and undo entries are stale.
    replaced: Vec<ResultId>,
    /// Each result's number, 1-based, in the order photos were added; made
    /// again when the store changes.
    numbers: Option<(u64, Vec<usize>)>,
}

#[derive(Clone, PartialEq)]
struct ViewKey {
    generation: u64,
    mode: RowMode,
    filter: Filter,
    sort: Sort,
}

impl ResultStore {
    /// Adds a result from `origin`, at `position` there (the batch's input
    /// index, or the file's line); returns its id in the store. A photo
    /// already held is answered anew in its place: one row per photo,
    /// however often it is classified or opened.
    pub fn push(
        &mut self,
        result: ImageResult,
        provenance: Provenance,
        origin: Origin,
        position: usize,
    ) -> ResultId {
        self.generation += 1;
        self.arrivals += 1;
        if let Some(&n) = self.by_path.get(&result.path) {
            let old = std::mem::replace(&mut self.images[n], result.clone());
            self.count(&old, false);
            self.count(&result, true);
            self.provenance[n] = provenance;
            self.answered_by[n] = origin;
            // The same answer again (from the library) leaves its pictures be.
            if old.faces != result.faces || old.status != result.status {
                self.replaced.push(ResultId(n));
            }
            return ResultId(n);
        }
        let id = ResultId(self.images.len());
        self.by_path.insert(result.path.clone(), id.0);
        self.added.push((origin, position));
        self.answered_by.push(origin);
        self.count(&result, true);
        self.images.push(result);
        self.provenance.push(provenance);
        id
    }

    /// Counts results coming in, not relabelled faces.
    pub fn arrivals(&self) -> u64 {
        self.arrivals
    }

    /// Results answered anew in their place since the last call.
    pub fn take_replaced(&mut self) -> Vec<ResultId> {
        std::mem::take(&mut self.replaced)
    }

    /// Where a result came from: the library, a batch, or an opened file.
    pub fn origin(&self, id: ResultId) -> Option<Origin> {
        self.answered_by.get(id.0).copied()
    }

    /// Sets (or, with `None`, takes back) a person's label for a face;
    /// returns the label it had before.
    pub fn correct(
        &mut self,
        id: ResultId,
        face: usize,
        label: Option<crate::labels::PersonLabel>,
    ) -> Option<Option<crate::labels::PersonLabel>> {
        let mut result = self.images.get(id.0)?.clone();
        let target = result.faces.get_mut(face)?;
        let before = target.correction.map(|c| c.corrected_label);
        target.correction = label.map(crate::postprocess::Correction::by_person);
        let old = std::mem::replace(&mut self.images[id.0], result.clone());
        self.count(&old, false);
        self.count(&result, true);
        self.generation += 1;
        Some(before)
    }

    /// Takes in another store's results, each keeping its origin and place;
    /// where both hold a photo, `other`'s answer (the newer) wins.
    pub fn merge(&mut self, other: ResultStore) {
        let places = other.added.into_iter();
        for ((result, provenance), (origin, position)) in
            other.images.into_iter().zip(other.provenance).zip(places)
        {
            self.push(result, provenance, origin, position);
        }
    }

    /// Adds `result` to the counts and histograms, or takes it out of them.
    fn count(&mut self, result: &ImageResult, add: bool) {
        let step = |n: &mut usize| *n = if add { *n + 1 } else { n.saturating_sub(1) };
        let step32 = |n: &mut u32| *n = if add { *n + 1 } else { n.saturating_sub(1) };
        let c = &mut self.counts;
        step(&mut c.images);
        match result.status {
            Status::Error => step(&mut c.errors),
            Status::NoFace => step(&mut c.no_face),
            Status::Ok => {}
        }
        for face in &result.faces {
            if face.correction.is_some() {
                step(&mut c.corrected);
            }
            // A person's label counts over the models'; "not a face" is no face.
            let Some(label) = face.label() else {
                continue;
            };
            step(&mut c.faces);
            let column = match label {
                Gender::Female => {
                    step(&mut c.female);
                    0
                }
                Gender::Male => {
                    step(&mut c.male);
                    1
                }
            };
            if face.uncertain && face.correction.is_none() {
                step(&mut c.uncertain);
            }
            let bin = ((face.p_male.clamp(0.0, 1.0) * HISTOGRAM_BINS as f32) as usize)
                .min(HISTOGRAM_BINS - 1);
            step32(&mut self.histogram[column][bin]);
            if let Some(age) = face.age {
                let bin = ((age.max(0.0) / AGE_BIN_YEARS) as usize).min(AGE_BINS - 1);
                step32(&mut self.age_histogram[column][bin]);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.images.len()
    }

    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    pub fn get(&self, id: ResultId) -> Option<&ImageResult> {
        self.images.get(id.0)
    }

    pub fn images(&self) -> &[ImageResult] {
        &self.images
    }

    /// The result's number as the table shows it: its place in the order
    /// photos were added (the `#` column sorts the same way), from 1.
    pub fn number(&mut self, id: ResultId) -> usize {
        let fresh =
            matches!(&self.numbers, Some((generation, _)) if *generation == self.generation);
        if !fresh {
            let mut ids: Vec<usize> = (0..self.images.len()).collect();
            ids.sort_by_key(|&id| self.added[id]);
            let mut numbers = vec![0; ids.len()];
            for (rank, id) in ids.into_iter().enumerate() {
                numbers[id] = rank + 1;
            }
            self.numbers = Some((self.generation, numbers));
        }
        self.numbers
            .as_ref()
            .and_then(|(_, numbers)| numbers.get(id.0).copied())
            .unwrap_or(0)
    }

    /// Every result with its provenance, in the order the photos were added
    /// (the order exports use), whatever order the results arrived in.
    pub fn in_added_order(&self) -> Vec<(&ImageResult, &Provenance)> {
        self.in_added_order_where(|_| true)
    }

    /// Like [`Self::in_added_order`], only the results `keep` lets through.
    pub fn in_added_order_where(
        &self,
        keep: impl Fn(ResultId) -> bool,
    ) -> Vec<(&ImageResult, &Provenance)> {
        let mut ids: Vec<usize> = (0..self.images.len())
            .filter(|&id| keep(ResultId(id)))
            .collect();
        ids.sort_by_key(|&id| self.added[id]);
        ids.into_iter()
            .map(|id| (&self.images[id], &self.provenance[id]))
            .collect()
    }

    /// The photos the filter shows (whatever the row mode), by id.
    pub fn shown(&mut self, filter: &Filter) -> std::collections::HashSet<ResultId> {
        self.rows(RowMode::PerImage, filter, Sort::default())
            .iter()
            .map(|row| row.image)
            .collect()
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Faces per p_male bin: `[female, male]`, each `HISTOGRAM_BINS` long.
    pub fn histogram(&self) -> &[[u32; HISTOGRAM_BINS]; 2] {
        &self.histogram
    }

    /// Faces per age bin: `[female, male]`, each `AGE_BINS` long.
    pub fn age_histogram(&self) -> &[[u32; AGE_BINS]; 2] {
        &self.age_histogram
    }

    /// The rows to show, filtered and sorted; cached until something changes.
    pub fn rows(&mut self, mode: RowMode, filter: &Filter, sort: Sort) -> &[Row] {
        let key = ViewKey {
            generation: self.generation,
            mode,
            filter: filter.clone(),
            sort,
        };
        let stale = self.view.as_ref().is_none_or(|(k, _)| *k != key);
        if stale {
            let rows = self.compute_rows(mode, filter, sort);
            self.view = Some((key, rows));
        }
        self.view
            .as_ref()
            .map(|(_, rows)| rows.as_slice())
            .unwrap_or(&[])
    }

    fn compute_rows(&self, mode: RowMode, filter: &Filter, sort: Sort) -> Vec<Row> {
        let needle = filter.text.to_lowercase();
        let mut rows = Vec::new();
        for (n, image) in self.images.iter().enumerate() {
            let id = ResultId(n);
            if !needle.is_empty()
                && !image
                    .path
                    .to_string_lossy()
                    .to_lowercase()
                    .contains(&needle)
            {
                continue;
            }
            match (image.status, mode) {
                (Status::Error, _) => {
                    if filter.errors && !filter.uncertain_only && filter.ages_all() {
                        rows.push(Row {
                            image: id,
                            face: None,
                        });
                    }
                }
                (Status::NoFace, _) => {
                    if filter.no_face && !filter.uncertain_only && filter.ages_all() {
                        rows.push(Row {
                            image: id,
                            face: None,
                        });
                    }
                }
                (Status::Ok, RowMode::PerFace) => {
                    for (n, face) in image.faces.iter().enumerate() {
                        if face_matches(filter, face) {
                            rows.push(Row {
                                image: id,
                                face: Some(n),
                            });
                        }
                    }
                }
                (Status::Ok, RowMode::PerImage) => {
                    let matches = image.faces.iter().any(|f| face_matches(filter, f));
                    if matches {
                        rows.push(Row {
                            image: id,
                            face: None,
                        });
                    }
                }
            }
        }
        {
            rows.sort_by(|a, b| {
                // Rows without the value (no face, errors) stay at the end either way.
                let missing = |row: &Row| self.value_missing(*row, sort.column);
                missing(a).cmp(&missing(b)).then_with(|| {
                    let order = self.compare(a, b, sort.column);
                    if sort.descending {
                        order.reverse()
                    } else {
                        order
                    }
                })
            });
        }
        rows
    }

    /// The values a row shows: its face's, or the photo's top-level answer.
    pub fn row_values(&self, row: Row) -> RowValues {
        let image = &self.images[row.image.0];
        let face = match row.face {
            Some(n) => image.faces.get(n),
            None => image
                .faces
                .iter()
                .max_by(|a, b| a.area().total_cmp(&b.area())),
        };
        match face {
            Some(f) => RowValues {
                gender: f.label(),
                score: Some(f.score),
                p_male: Some(f.p_male),
                age: f.age,
            },
            None => RowValues::default(),
        }
    }

    fn value_missing(&self, row: Row, column: SortColumn) -> bool {
        let values = self.row_values(row);
        match column {
            SortColumn::Gender => values.gender.is_none(),
            SortColumn::Score => values.score.is_none(),
            SortColumn::PMale => values.p_male.is_none(),
            SortColumn::Age => values.age.is_none(),
            SortColumn::Added | SortColumn::Path | SortColumn::Status => false,
        }
    }

    fn compare(&self, a: &Row, b: &Row, column: SortColumn) -> Ordering {
        let (ia, ib) = (&self.images[a.image.0], &self.images[b.image.0]);
        let (va, vb) = (self.row_values(*a), self.row_values(*b));
        let primary = match column {
            SortColumn::Added => self.added[a.image.0].cmp(&self.added[b.image.0]),
            SortColumn::Path => ia.path.cmp(&ib.path),
            SortColumn::Gender => va.gender.cmp(&vb.gender),
            SortColumn::Score => cmp_option_f32(va.score, vb.score),
            SortColumn::PMale => cmp_option_f32(va.p_male, vb.p_male),
            SortColumn::Age => cmp_option_f32(va.age, vb.age),
            SortColumn::Status => ia.status.as_str().cmp(ib.status.as_str()),
        };
        primary
            .then(a.image.cmp(&b.image))
            .then(a.face.cmp(&b.face))
    }
}

/// What a table row shows for its face (or its photo's largest face).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RowValues {
    pub gender: Option<Gender>,
    pub score: Option<f32>,
    pub p_male: Option<f32>,
    pub age: Option<f32>,
}

/// Filters go by the label that counts (a person's over the models'); a
/// reviewed face is no longer uncertain, and "not a face" is never shown.
fn face_matches(filter: &Filter, face: &FaceResult) -> bool {
    let label = match face.label() {
        Some(Gender::Male) => filter.male,
        Some(Gender::Female) => filter.female,
        None => false,
    };
    let uncertain = face.uncertain && face.correction.is_none();
    label && (!filter.uncertain_only || uncertain) && filter.age_matches(face.age)
}

/// Missing values sort after present ones.
fn cmp_option_f32(a: Option<f32>, b: Option<f32>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn numbers_follow_the_order_photos_were_added_not_arrival() {
        let mut store = ResultStore::default();
        let provenance = Provenance {
            backend: "local".into(),
            model: "m".into(),
        };
        // Results of one batch arrive out of input order.
        for position in [1, 0, 3, 2] {
            let result = ImageResult::failed(
                position,
                format!("{position}.jpg").into(),
                crate::error::PhotoError::input("x"),
            );
            store.push(result, provenance.clone(), Origin::Batch(1), position);
        }
        let numbers: Vec<usize> = (0..4).map(|id| store.number(ResultId(id))).collect();
        assert_eq!(numbers, [2, 1, 4, 3]);
        let later = ImageResult::failed(0, "a.jpg".into(), crate::error::PhotoError::input("x"));
        let id = store.push(later, provenance, Origin::Batch(2), 0);
        assert_eq!(store.number(id), 5, "a later batch comes after");
    }

    use super::*;
    use crate::error::PhotoError;
    use crate::postprocess::{FaceResult, StageTimings, image_result};

    #[test]
    fn a_photo_answered_again_keeps_its_one_row_and_its_place() {
        let mut store = store();
        let before = store.counts();
        let provenance = Provenance {
            backend: "local".into(),
            model: "m".into(),
        };
        // The failed photo, classified again and now with a face.
        let again = image_result(
            7,
            "d.gif".into(),
            (9, 9),
            vec![face(Gender::Female, 0.2, 5.0, 30.0)],
            StageTimings::default(),
        );
        let id = store.push(again, provenance, Origin::Batch(2), 7);
        assert_eq!(store.len(), 4);
        assert_eq!(store.number(id), 4, "it keeps its place");
        let after = store.counts();
        assert_eq!(after.errors, before.errors - 1);
        assert_eq!(
            (after.faces, after.female),
            (before.faces + 1, before.female + 1)
        );
        assert_eq!(after.images, before.images);
    }

    fn face(gender: Gender, p_male: f32, side: f32, age: f32) -> FaceResult {
        let score = match gender {
            Gender::Male => p_male,
            Gender::Female => 1.0 - p_male,
        };
        FaceResult {
            bbox: [0.0, 0.0, side, side],
            landmarks: [[0.0; 2]; 5],
            detection_score: 0.9,
            gender,
            score,
            p_male,
            uncertain: score < 0.6,
            age: Some(age),
            models: Default::default(),
            correction: None,
        }
    }

    fn store() -> ResultStore {
        let provenance = Provenance {
            backend: "local".into(),
            model: "m".into(),
        };
        let mut store = ResultStore::default();
        let timings = StageTimings::default();
        store.push(
            image_result(
                0,
                "b.jpg".into(),
                (9, 9),
                vec![face(Gender::Male, 0.9, 5.0, 34.0)],
                timings,
            ),
            provenance.clone(),
            Origin::Batch(1),
            0,
        );
        store.push(
            image_result(
                0,
                "a.jpg".into(),
                (9, 9),
                vec![
                    face(Gender::Female, 0.1, 5.0, 8.5),
                    face(Gender::Male, 0.55, 2.0, 67.2),
                ],
                timings,
            ),
            provenance.clone(),
            Origin::Batch(1),
            0,
        );
        store.push(
            image_result(0, "c.png".into(), (9, 9), vec![], timings),
            provenance.clone(),
            Origin::Batch(1),
            0,
        );
        store.push(
            ImageResult::failed(0, "d.gif".into(), PhotoError::input("damaged")),
            provenance,
            Origin::Batch(1),
            0,
        );
        store
    }

    #[test]
    fn counts_and_histogram() {
        let store = store();
        let c = store.counts();
        assert_eq!(
            (
                c.images,
                c.faces,
                c.female,
                c.male,
                c.uncertain,
                c.no_face,
                c.errors
            ),
            (4, 3, 1, 2, 1, 1, 1)
        );
        let [female, male] = store.histogram();
        assert_eq!(female[2], 1);
        assert_eq!(male[18] + male[11], 2);
        let [female, male] = store.age_histogram();
        assert_eq!((female[0], male[3], male[6]), (1, 1, 1));
        assert_eq!(female.iter().chain(male).sum::<u32>(), 3);
    }

    #[test]
    fn the_age_range_filters_faces_and_age_sorts() {
        let mut store = store();
        let thirties = Filter {
            age_from: 30,
            age_to: 39,
            ..Filter::default()
        };
        assert!(!thirties.ages_all());
        let rows = store.rows(RowMode::PerFace, &thirties, Sort::default());
        assert_eq!(
            rows,
            &[Row {
                image: ResultId(0),
                face: Some(0)
            }],
            "only the 34-year-old; no-face photos and errors have no age"
        );
        let older = Filter {
            age_from: 60,
            ..Filter::default()
        };
        assert_eq!(
            store.rows(RowMode::PerFace, &older, Sort::default()).len(),
            1,
            "the open top end keeps the 67-year-old"
        );
        // Per photo: a.jpg shows for its 8.5-year-old.
        let young = Filter {
            age_to: 9,
            ..Filter::default()
        };
        let rows = store
            .rows(RowMode::PerImage, &young, Sort::default())
            .to_vec();
        assert_eq!(rows.len(), 1);
        assert_eq!(store_path(&store, rows[0].image), "a.jpg");

        let by_age = Sort {
            column: SortColumn::Age,
            descending: false,
        };
        let ages: Vec<_> = store
            .rows(RowMode::PerFace, &Filter::default(), by_age)
            .to_vec()
            .into_iter()
            .map(|r| store.row_values(r).age)
            .collect();
        assert_eq!(
            ages,
            [Some(8.5), Some(34.0), Some(67.2), None, None],
            "rows without an age stay last"
        );
    }

    #[test]
    fn filters_and_sorting() {
        let mut store = store();
        let all = store
            .rows(RowMode::PerFace, &Filter::default(), Sort::default())
            .to_vec();
        assert_eq!(all.len(), 5);

        let uncertain = Filter {
            uncertain_only: true,
            ..Filter::default()
        };
        let rows = store.rows(RowMode::PerFace, &uncertain, Sort::default());
        assert_eq!(
            rows,
            &[Row {
                image: ResultId(1),
                face: Some(1)
            }]
        );

        let males = Filter {
            female: false,
            no_face: false,
            errors: false,
            ..Filter::default()
        };
        assert_eq!(
            store.rows(RowMode::PerFace, &males, Sort::default()).len(),
            2
        );
        // Per photo, a photo shows when any face matches.
        assert_eq!(
            store.rows(RowMode::PerImage, &males, Sort::default()).len(),
            2
        );

        let by_path = Sort {
            column: SortColumn::Path,
            descending: false,
        };
        let rows = store
            .rows(RowMode::PerImage, &Filter::default(), by_path)
            .to_vec();
        let paths: Vec<_> = rows.iter().map(|r| store_path(&store, r.image)).collect();
        assert_eq!(paths, ["a.jpg", "b.jpg", "c.png", "d.gif"]);

        let by_score = Sort {
            column: SortColumn::PMale,
            descending: true,
        };
        let first = store.rows(RowMode::PerFace, &Filter::default(), by_score)[0];
        assert_eq!(
            first,
            Row {
                image: ResultId(0),
                face: Some(0)
            }
        );

        let text = Filter {
            text: "PNG".into(),
            ..Filter::default()
        };
        assert_eq!(
            store.rows(RowMode::PerFace, &text, Sort::default()).len(),
            1
        );
    }

    #[test]
    fn rows_follow_the_order_photos_were_added_not_the_order_results_arrived() {
        let provenance = Provenance {
            backend: "local".into(),
            model: "m".into(),
        };
        let mut store = ResultStore::default();
        let timings = StageTimings::default();
        for (origin, index, name) in [
            (Origin::File(1), 0, "opened.jsonl"),
            (Origin::Batch(2), 0, "later.jpg"),
            (Origin::Batch(1), 5, "b.jpg"),
            (Origin::Batch(1), 2, "a.jpg"),
        ] {
            let id = store.push(
                image_result(index, name.into(), (9, 9), vec![], timings),
                provenance.clone(),
                origin,
                index,
            );
            assert_eq!(
                store.get(id).unwrap().index,
                index,
                "the input index is kept"
            );
        }
        let rows = store
            .rows(RowMode::PerImage, &Filter::default(), Sort::default())
            .to_vec();
        let names: Vec<_> = rows.iter().map(|r| store_path(&store, r.image)).collect();
        assert_eq!(names, ["a.jpg", "b.jpg", "later.jpg", "opened.jsonl"]);
        // Exports use the same order.
        let exported: Vec<_> = store
            .in_added_order()
            .iter()
            .map(|(r, _)| r.path.display().to_string())
            .collect();
        assert_eq!(exported, ["a.jpg", "b.jpg", "later.jpg", "opened.jsonl"]);
    }

    fn store_path(store: &ResultStore, id: ResultId) -> String {
        store.get(id).unwrap().path.display().to_string()
    }
}
