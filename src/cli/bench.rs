use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use std::io::Write;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use super::{EngineArgs, load_engine};
use crate::batch::{EngineEvent, Summary};
use crate::postprocess::StageTimings;

#[derive(Args)]
pub struct BenchArgs {
    /// Folder of photos to classify.
    dir: PathBuf,
    /// Timed passes over the folder; the median pass is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Measure at least this many images per pass: a small folder is
    /// repeated (through hard links) so the rate is the steady state of a
    /// long batch, not pipeline start-up and drain.
    #[arg(long, default_value_t = 64)]
    min_images: usize,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Instead of speed, measure how steady the labels are: every face's box
    /// moved by ±1 px and scaled by ±2% (eight variants), with the change
    /// in p(male) and the labels that flip.
    #[arg(long)]
    stability: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Debug, Serialize)]
struct BenchReport {
    images: usize,
    distinct_images: usize,
    faces: usize,
    errors: usize,
    passes: usize,
    images_per_second: f64,
    faces_per_second: f64,
    /// Every pass, fastest first.
    pass_images_per_second: Vec<f64>,
    ms_per_image: StageMs,
    classifier_runs: usize,
    mean_chips_per_run: f64,
    peak_rss_mib: Option<f64>,
    detector_ep: String,
    classifier_ep: String,
    floor: FloorReport,
}

/// The floor beside the pipeline's median pass.
#[derive(Debug, Serialize)]
struct FloorReport {
    #[serde(flatten)]
    measured: crate::engine::floor::Floor,
    decode_ms_per_image: f64,
    detect_ms_per_image: f64,
    images_per_second: f64,
    /// The pipeline's time over the floor's (1.0: at the limit).
    pipeline_over_floor: f64,
}

#[derive(Debug, Default, Serialize)]
struct StageMs {
    decode: f64,
    detect: f64,
    align: f64,
    classify: f64,
}

struct Pass {
    summary: Summary,
    timings: Vec<StageTimings>,
    reports: Vec<crate::runtime::SessionReport>,
}

/// The photos under `dir`; none is an error.
fn photos_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let photos: Vec<PathBuf> = crate::batch::inputs::collect_inputs(&[dir.to_path_buf()])
        .items
        .into_iter()
        .filter_map(|item| match item {
            crate::batch::InputItem::Photo(path) => Some(path),
            crate::batch::InputItem::Unusable { .. } => None,
        })
        .collect();
    if photos.is_empty() {
        bail!("{} holds no images", dir.display());
    }
    Ok(photos)
}

/// A folder holding every photo of `dir` often enough to reach `min_images`.
fn replicated(dir: &Path, min_images: usize) -> Result<(tempfile::TempDir, usize)> {
    let photos = photos_in(dir)?;
    let copies = min_images.div_ceil(photos.len()).max(1);
    let out = tempfile::Builder::new()
        .prefix("genderlens-bench-")
        .tempdir()?;
    for copy in 0..copies {
        for (i, photo) in photos.iter().enumerate() {
            let name = photo
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let target = out.path().join(format!("{copy:04}-{i:05}-{name}"));
            if std::fs::hard_link(photo, &target).is_err() {
                std::fs::copy(photo, &target)
                    .with_context(|| format!("copying {}", photo.display()))?;
            }
        }
    }
    Ok((out, photos.len()))
}

fn one_pass(engine: &crate::engine::Engine, dir: &Path) -> Result<Pass> {
    let mut pass = Pass {
        summary: Summary::default(),
        timings: Vec::new(),
        reports: Vec::new(),
    };
    for event in engine.start(vec![dir.to_path_buf()], None).wait() {
        match event {
            EngineEvent::Image(result) => pass.timings.push(result.timings),
            EngineEvent::SessionReady(report) => pass.reports.push(report),
            EngineEvent::Finished(summary) => pass.summary = summary,
            EngineEvent::Failed(message) => bail!(message),
            _ => {}
        }
    }
    Ok(pass)
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    let engine = load_engine(args.engine.settings())?;
    if args.stability {
        return stability(&engine, &args);
    }
    let (folder, distinct) = replicated(&args.dir, args.min_images)?;
    // The first pass loads sessions (and builds TensorRT engines); it is not timed.
    let warm = one_pass(&engine, folder.path())?;
    let mut passes = Vec::new();
    for _ in 0..args.repeat.max(1) {
        passes.push(one_pass(&engine, folder.path())?);
    }
    let rate = |p: &Pass| p.summary.total as f64 / p.summary.elapsed.as_secs_f64().max(1e-9);
    passes.sort_by(|a, b| rate(b).total_cmp(&rate(a)));
    let median = &passes[passes.len() / 2];
    let n = median.timings.len().max(1) as f64;
    let sum = median
        .timings
        .iter()
        .fold(StageMs::default(), |acc, t| StageMs {
            decode: acc.decode + t.decode_ms,
            detect: acc.detect + t.detect_ms,
            align: acc.align + t.align_ms,
            classify: acc.classify + t.classify_ms,
        });
    let ep_of = |name: &str| {
        warm.reports
            .iter()
            .find(|r| r.model == name)
            .map(|r| r.assignment.to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    let seconds = median.summary.elapsed.as_secs_f64().max(1e-9);
    // Read before the floor is measured: that keeps decoded photos of its own.
    let peak_rss_mib = crate::memory::peak_rss_bytes().map(|b| b as f64 / (1024.0 * 1024.0));
    let measured = engine.measure_floor(&photos_in(folder.path())?)?;
    let per_image = |s: f64| s * 1e3 / measured.images.max(1) as f64;
    let floor = FloorReport {
        decode_ms_per_image: per_image(measured.decode_seconds),
        detect_ms_per_image: per_image(measured.detect_seconds),
        images_per_second: measured.images_per_second(),
        pipeline_over_floor: seconds / measured.seconds().max(1e-9),
        measured,
    };
    let report = BenchReport {
        images: median.summary.total,
        distinct_images: distinct,
        faces: median.summary.faces,
        errors: median.summary.failed,
        passes: passes.len(),
        images_per_second: rate(median),
        faces_per_second: median.summary.faces as f64 / seconds,
        pass_images_per_second: passes.iter().map(rate).collect(),
        ms_per_image: StageMs {
            decode: sum.decode / n,
            detect: sum.detect / n,
            align: sum.align / n,
            classify: sum.classify / n,
        },
        classifier_runs: median.summary.batches.runs,
        mean_chips_per_run: median.summary.batches.chips as f64
            / median.summary.batches.runs.max(1) as f64,
        peak_rss_mib,
        detector_ep: ep_of(&engine.bundle().manifest.detector.name),
        classifier_ep: ep_of(&engine.bundle().manifest.classifier.name),
        floor,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_report(&mut out, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(out: &mut dyn Write, r: &BenchReport) -> std::io::Result<()> {
    writeln!(
        out,
        "images:        {} per pass ({} distinct photos, repeated), {} faces, {} errors",
        r.images, r.distinct_images, r.faces, r.errors
    )?;
    writeln!(
        out,
        "throughput:    {:.2} images/s, {:.2} faces/s (median of {} passes; all: {})",
        r.images_per_second,
        r.faces_per_second,
        r.passes,
        r.pass_images_per_second
            .iter()
            .map(|v| format!("{v:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        out,
        "ms per image:  decode {:.1}, detect {:.1}, align {:.2}, classify {:.2} (stages overlap across workers)",
        r.ms_per_image.decode, r.ms_per_image.detect, r.ms_per_image.align, r.ms_per_image.classify
    )?;
    writeln!(
        out,
        "classifier:    {} runs, {:.1} chips per run",
        r.classifier_runs, r.mean_chips_per_run
    )?;
    match r.peak_rss_mib {
        Some(mib) => writeln!(out, "peak RSS:      {mib:.0} MiB")?,
        None => writeln!(out, "peak RSS:      not available on this platform")?,
    }
    let f = &r.floor;
    writeln!(
        out,
        "floor:         {:.2} images/s: decode alone {:.1} ms per image (all cores), detection alone {:.1} ms (detect workers)",
        f.images_per_second, f.decode_ms_per_image, f.detect_ms_per_image
    )?;
    writeln!(
        out,
        "vs floor:      the pipeline takes {:.2}× the floor's time",
        f.pipeline_over_floor
    )?;
    writeln!(out, "detector EP:   {}", r.detector_ep)?;
    writeln!(out, "classifier EP: {}", r.classifier_ep)?;
    Ok(())
}

/// `bench --stability`: every photo of the folder, once, face by face, for
/// each model choice side by side.
fn stability(engine: &crate::engine::Engine, args: &BenchArgs) -> Result<ExitCode> {
    use crate::settings::ModelChoice;
    use crate::stability::{StabilityProbe, StabilityReport};
    let mut probe = StabilityProbe::new(
        engine.runtime(),
        Arc::new(engine.bundle().clone()),
        engine.settings(),
    )?;
    let photos = photos_in(&args.dir)?;
    let mut faces = Vec::new();
    let mut measured = 0;
    for photo in &photos {
        match probe.photo(photo) {
            Ok(found) => {
                faces.extend(found);
                measured += 1;
            }
            Err(e) => eprintln!("skipped {}: {e:#}", photo.display()),
        }
    }
    let reports: Vec<(ModelChoice, StabilityReport)> = ModelChoice::ALL
        .into_iter()
        .map(|choice| {
            let probes: Vec<_> = faces.iter().map(|f| f.get(choice).clone()).collect();
            (choice, StabilityReport::from_faces(measured, &probes))
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        let models: serde_json::Map<String, serde_json::Value> = reports
            .iter()
            .map(|(choice, report)| Ok((choice.to_string(), serde_json::to_value(report)?)))
            .collect::<Result<_>>()?;
        let json = serde_json::json!({ "models": models });
        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
    } else {
        let first = &reports[0].1;
        writeln!(
            out,
            "{} photos, {} faces, {} box variants each ({} in all)",
            first.photos,
            first.faces,
            crate::stability::VARIANTS.len(),
            first.variants
        )?;
        writeln!(
            out,
            "model          mean |dp|  max |dp|  flips  faces flipped"
        )?;
        for (choice, report) in &reports {
            writeln!(
                out,
                "{:<14} {:>9.4}  {:>8.4}  {:>5}  {:>13}",
                choice.as_str(),
                report.mean_abs_delta,
                report.max_abs_delta,
                report.flips,
                report.faces_flipped
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
