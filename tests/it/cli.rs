//! The `genderlens` binary end to end: CSV and JSONL parse back to the
//! expected rows, and exit codes follow the documented rules.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    common::genderlens_command()
}

fn genderlens(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

/// `genderlens classify PATH --provider cpu --format FORMAT EXTRA...`
fn classify_on_cpu(path: &Path, format: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "classify",
        path_str(path),
        "--provider",
        "cpu",
        "--format",
        format,
    ];
    args.extend_from_slice(extra);
    genderlens(&args)
}

/// The lines of a successful `--format jsonl` run, each parsed.
fn jsonl_lines(out: Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn folder_with_photos_and_a_broken_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["obama.jpg", "astronaut.png"] {
        std::fs::copy(common::photo(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("broken.jpg"), b"not an image").unwrap();
    std::fs::write(dir.path().join("readme.txt"), b"skipped").unwrap();
    dir
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn csv_has_one_row_per_face_and_a_row_per_failed_photo() {
    let dir = folder_with_photos_and_a_broken_file();
    let out_file = dir.path().join("out.csv");
    let out = classify_on_cpu(dir.path(), "csv", &["--output", path_str(&out_file)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("1 errors"),
        "summary names the error: {stderr}"
    );
    assert!(
        stderr.contains("broken.jpg"),
        "summary lists the failed file: {stderr}"
    );

    let mut reader = csv::Reader::from_path(&out_file).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(headers, common::DOCUMENTED_CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let by_name = |name: &str| {
        rows.iter()
            .find(|r| r[0].ends_with(name))
            .unwrap_or_else(|| panic!("no row for {name}"))
    };
    let astronaut = by_name("astronaut.png");
    assert_eq!(
        (&astronaut[1], &astronaut[6], &astronaut[11]),
        ("0", "female", "ok")
    );
    assert!(astronaut[7].parse::<f32>().unwrap() > 0.6);
    assert_eq!(&by_name("obama.jpg")[6], "male");
    let broken = by_name("broken.jpg");
    assert_eq!(&broken[11], "error");
    assert!(broken[12].contains("not a recognised image format"));
    assert_eq!(&astronaut[13], "local:CPUExecutionProvider");
    assert_eq!(&astronaut[14], "gender-v1+age-v1+faceapi-agegender");
    let age: f32 = astronaut[16].parse().expect("the age column");
    assert!((15.0..70.0).contains(&age), "{age}");
    assert!(broken[16].is_empty(), "no face, no age");
}

#[test]
fn jsonl_is_one_photo_per_line_in_input_order() {
    let dir = folder_with_photos_and_a_broken_file();
    let lines = jsonl_lines(classify_on_cpu(dir.path(), "jsonl", &[]));
    let names: Vec<&str> = lines
        .iter()
        .map(|l| {
            Path::new(l["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["astronaut.png", "broken.jpg", "obama.jpg"]);
    assert_eq!(lines[0]["gender"], "female");
    assert_eq!(lines[0]["faces"].as_array().unwrap().len(), 1);
    assert_eq!(lines[1]["status"], "error");
    assert_eq!(lines[2]["gender"], "male");
    assert_eq!(lines[2]["index"], 2);
}

#[test]
fn json_is_one_array() {
    let out = classify_on_cpu(&common::photo("biden.jpg"), "json", &[]);
    assert!(out.status.success());
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(value.as_array().unwrap().len(), 1);
    assert_eq!(value[0]["gender"], "male");
}

#[test]
fn exit_code_is_nonzero_when_every_input_fails_or_usage_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jpg");
    std::fs::write(&bad, b"garbage").unwrap();
    let all_failed = genderlens(&["classify", path_str(&bad), "--provider", "cpu"]);
    assert_eq!(all_failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&all_failed.stdout).contains("error"));

    let usage = genderlens(&["classify"]);
    assert_eq!(
        usage.status.code(),
        Some(2),
        "clap reports usage errors with 2"
    );
    let bad_size = genderlens(&["classify", path_str(&bad), "--detector-size", "100"]);
    assert_eq!(bad_size.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_size.stderr).contains("multiple of 32"));
}

#[test]
fn doctor_reports_the_runtime_and_where_each_model_runs() {
    common::runtime(); // doctor reports, it does not fetch: make sure there is one
    let out = genderlens(&["doctor", "--json", "--provider", "cpu"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema"], 1);
    assert_eq!(report["healthy"], true);
    assert_eq!(report["runtime"]["ok"], true);
    assert!(
        report["runtime"]["version"]
            .as_str()
            .unwrap()
            .starts_with("1.")
    );
    assert_eq!(report["models"]["ok"], true);
    assert!(
        report["models"]["dir"]
            .as_str()
            .unwrap()
            .ends_with("models")
    );
    let sessions = report["sessions"].as_array().unwrap();
    let models: Vec<_> = sessions.iter().map(|s| s["model"].clone()).collect();
    assert_eq!(
        models,
        ["centerface", "gender-v1", "age-v1", "faceapi-agegender"],
        "every model the app may run is checked"
    );
    for s in sessions {
        assert_eq!(s["ok"], true, "{s}");
        let nodes = &s["assignment"]["nodes_by_provider"];
        assert!(nodes["CPUExecutionProvider"].as_u64().unwrap() > 0, "{s}");
    }
    let libs = report["gpu_libraries"].as_array().unwrap();
    assert!(libs.iter().any(|l| l["file"] == "libnvinfer.so.10"));
    assert!(libs.iter().any(|l| l["file"] == "libcudart.so.13"));
}

/// The default provider, Auto, on the CPU build of ONNX Runtime: TensorRT
/// and CUDA are tried, each is passed over with its reason, and the models
/// run on the CPU.
#[test]
fn the_auto_provider_falls_back_to_the_cpu_and_says_why() {
    let runtime = common::runtime();
    assert!(
        !runtime
            .compiled_providers
            .iter()
            .any(|p| p == "CUDAExecutionProvider"),
        "this test is about the CPU build; the runtime here has {:?}",
        runtime.compiled_providers
    );
    let out = genderlens(&["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{report}");
    for session in report["sessions"].as_array().unwrap() {
        assert_eq!(session["ok"], true, "{session}");
        let nodes = &session["assignment"]["nodes_by_provider"];
        assert!(
            nodes["CPUExecutionProvider"].as_u64().unwrap() > 0,
            "{session}"
        );
        let fallbacks = session["fallbacks"].as_array().unwrap();
        let providers: Vec<_> = fallbacks.iter().map(|f| f["provider"].clone()).collect();
        assert_eq!(providers, ["TensorRT", "CUDA"], "{session}");
        for fallback in fallbacks {
            let reason = fallback["reason"].as_str().unwrap();
            assert!(reason.len() > 10, "a reason is given: {fallback}");
        }
    }
    let text = genderlens(&["doctor"]).stdout;
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("TensorRT not used"), "{text}");
    assert!(text.contains("CUDA not used"), "{text}");
}

#[test]
fn ctrl_c_stops_the_batch_but_keeps_finished_rows_and_the_summary() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    common::link_fixture_copies(dir.path(), 20);
    let out_file = dir.path().join("partial.csv");
    let mut child = bin()
        .args([
            "classify",
            path_str(dir.path()),
            "--provider",
            "cpu",
            "--format",
            "csv",
            "-o",
        ])
        .arg(&out_file)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    // The classifier's session line comes once the handler is installed and
    // before the 160 photos (several seconds of work) are through.
    while !seen.contains("gender-v1:") {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "stderr ended early: {seen}"
        );
        seen.push_str(&line);
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("cancelled"), "{rest}");
    let rows = csv::Reader::from_path(&out_file).unwrap().records().count();
    assert!(rows < 160, "the batch stopped early ({rows} rows)");
}

#[test]
fn the_runtime_variable_takes_precedence_and_is_reported() {
    let runtime = common::runtime();
    let folder = runtime.located.path.parent().unwrap();
    let out = bin()
        .args(["doctor", "--json", "--provider", "cpu"])
        .env("GENDERLENS_ORT_DYLIB", folder)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["runtime"]["found_via"], "GENDERLENS_ORT_DYLIB");

    let wrong = tempfile::tempdir().unwrap();
    let fake = wrong.path().join("libonnxruntime.so.1.31.1");
    std::fs::write(&fake, b"not a library").unwrap();
    let out = bin()
        .args(["classify", path_str(&common::photo("obama.jpg"))])
        .env("GENDERLENS_ORT_DYLIB", &fake)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("GENDERLENS_ORT_DYLIB names"), "{stderr}");
}

#[test]
fn runtime_fetch_downloads_and_unpacks_only_the_libraries() {
    let home = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["runtime", "fetch"])
        .env("HOME", home.path())
        .env_remove("XDG_DATA_HOME")
        // pip's own download cache keeps repeated runs from downloading again.
        .env(
            "PIP_CACHE_DIR",
            std::env::var_os("PIP_CACHE_DIR").unwrap_or_else(|| {
                std::path::PathBuf::from(std::env::var_os("HOME").unwrap())
                    .join(".cache/pip")
                    .into()
            }),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let folder = std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(folder.starts_with(home.path()), "{folder:?}");
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "libonnxruntime.so.1.31.1",
            "libonnxruntime_providers_shared.so"
        ]
    );

    // The fetched library is then found through the data folder and used.
    let used = runtime_used(Path::new(env!("CARGO_BIN_EXE_genderlens")), home.path());
    assert_eq!(used["found_via"], "the GenderLens data folder");
    assert_eq!(used["version"], "1.31.1");
}

/// The runtime `doctor` reports for `exe` run with `home` as the home folder
/// and no runtime named by the environment.
fn runtime_used(exe: &Path, home: &Path) -> serde_json::Value {
    let out = Command::new(exe)
        .args(["doctor", "--json", "--provider", "cpu"])
        .env("HOME", home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("GENDERLENS_ORT_DYLIB")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["runtime"]["ok"], true, "{report}");
    report["runtime"].clone()
}

/// An installed layout (`usr/bin/genderlens` with `usr/lib/genderlens/`): the
/// bundled CPU runtime is used, unless the user fetched a GPU build, which
/// then comes first.
#[test]
fn a_fetched_gpu_runtime_comes_before_the_bundled_one() {
    let runtime = common::runtime();
    let cpu_lib = &runtime.located.path;
    let lib_name = cpu_lib.file_name().unwrap();
    let root = tempfile::tempdir().unwrap();
    let bin_dir = root.path().join("usr/bin");
    let bundled = root.path().join("usr/lib/genderlens");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::fs::create_dir_all(&bundled).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_genderlens"), bin_dir.join("genderlens")).unwrap();
    std::fs::copy(cpu_lib, bundled.join(lib_name)).unwrap();
    let home = tempfile::tempdir().unwrap();
    let doctor = || runtime_used(&bin_dir.join("genderlens"), home.path());

    let used = doctor();
    assert_eq!(used["found_via"], "bundled with the executable", "{used}");

    // A build fetched with `runtime fetch --build gpu` (here the CPU library
    // under the GPU build's folder name, which is what the lookup goes by).
    let gpu = home
        .path()
        .join(".local/share/genderlens/runtime/onnxruntime-gpu-1.31.1");
    std::fs::create_dir_all(&gpu).unwrap();
    std::fs::copy(cpu_lib, gpu.join(lib_name)).unwrap();
    let used = doctor();
    assert_eq!(used["found_via"], "the GenderLens data folder", "{used}");
    assert!(
        used["path"]
            .as_str()
            .unwrap()
            .contains("onnxruntime-gpu-1.31.1")
    );

    // A fetched CPU build does not displace the bundled one.
    std::fs::remove_dir_all(&gpu).unwrap();
    let cpu = home
        .path()
        .join(".local/share/genderlens/runtime/onnxruntime-cpu-1.31.1");
    std::fs::create_dir_all(&cpu).unwrap();
    std::fs::copy(cpu_lib, cpu.join(lib_name)).unwrap();
    let used = doctor();
    assert_eq!(used["found_via"], "bundled with the executable", "{used}");
}

/// `--output` never replaces a file unasked, and never one of the photos.
#[test]
fn output_is_written_whole_and_never_over_a_file_or_an_input() {
    let dir = folder_with_photos_and_a_broken_file();
    let existing = dir.path().join("results.csv");
    std::fs::write(&existing, b"keep me").unwrap();
    let out = classify_on_cpu(dir.path(), "csv", &["--output", path_str(&existing)]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

    let out = classify_on_cpu(
        dir.path(),
        "csv",
        &["--output", path_str(&existing), "--force"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&existing).unwrap();
    assert!(written.starts_with("path,face,"), "{written}");

    let photo = dir.path().join("obama.jpg");
    let before = std::fs::read(&photo).unwrap();
    let out = classify_on_cpu(&photo, "jsonl", &["--output", path_str(&photo), "--force"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("one of the photos to classify"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&photo).unwrap(),
        before,
        "the photo is untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".genderlens-output-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A file name that is not UTF-8, and one with a newline, in every format:
/// every photo still gets its line, the names survive, and no row is forged.
#[cfg(unix)]
#[test]
fn odd_file_names_cost_nothing_in_any_format() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9.jpg");
    std::fs::copy(common::photo("obama.jpg"), dir.path().join(latin1)).unwrap();
    std::fs::copy(
        common::photo("astronaut.png"),
        dir.path().join("two\nlines.png"),
    )
    .unwrap();
    std::fs::copy(common::photo("biden.jpg"), dir.path().join("plain.jpg")).unwrap();

    let lines = jsonl_lines(classify_on_cpu(dir.path(), "jsonl", &[]));
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines.iter().all(|l| l["status"] == "ok"), "{lines:?}");
    let odd = lines
        .iter()
        .find(|l| l.get("path_bytes").is_some())
        .expect("the non-UTF-8 name carries its bytes");
    let restored: genderlens::ImageResult = serde_json::from_value(odd.clone()).unwrap();
    assert_eq!(restored.path, dir.path().join(latin1));

    let json = classify_on_cpu(dir.path(), "json", &[]);
    let array: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(array.len(), 3);

    let csv = classify_on_cpu(dir.path(), "csv", &[]);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().any(|r| r[0].ends_with("two\nlines.png")));

    let table = classify_on_cpu(dir.path(), "table", &[]);
    let text = String::from_utf8(table.stdout).unwrap();
    // A header and one row per face: the newline in the name is escaped.
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("two\\nlines.png"), "{text}");
}

/// Photos that are legal but costly to decode, and ones too costly to
/// decode at all, with the worker counts of an 8-core machine and with this
/// machine's defaults: the decode budget keeps the whole process under 1 GB.
#[test]
fn costly_photos_keep_the_process_under_a_gigabyte() {
    let dir = tempfile::tempdir().unwrap();
    for n in 0..4 {
        // 196 MB decoded, 147 MB as RGB, with a rotation to apply.
        common::big_png(
            &dir.path().join(format!("large_{n}.png")),
            7_000,
            png::ColorType::Rgba,
            png::BitDepth::Eight,
        );
    }
    for n in 0..4 {
        // 1.5 GB to decode: refused from the header.
        common::big_png(
            &dir.path().join(format!("costly_{n}.png")),
            10_000,
            png::ColorType::Rgba,
            png::BitDepth::Sixteen,
        );
    }
    std::fs::copy(common::photo("obama.jpg"), dir.path().join("obama.jpg")).unwrap();
    common::runtime();
    for workers in [&["--workers", "8", "--decode-workers", "8"][..], &[][..]] {
        let mut command = bin();
        command
            .args(["classify", "--provider", "cpu", "--format", "jsonl"])
            .arg(dir.path())
            .args(workers);
        let (status, stderr, peak) = common::run_measuring_peak_rss(command);
        assert!(status.success(), "{stderr}");
        assert!(
            stderr.contains("9 images: 5 ok, 0 without a face, 4 errors")
                || stderr.contains("9 images: 1 ok, 4 without a face, 4 errors"),
            "{stderr}"
        );
        assert!(
            stderr
                .matches("above the 512 MB decoding memory limit")
                .count()
                == 4,
            "{stderr}"
        );
        eprintln!("{workers:?}: peak {} MB", peak >> 20);
        assert!(peak < 1 << 30, "{workers:?}: peak {} MB", peak >> 20);
    }
}

/// `bench --stability` reports, per model, how p(male) moves when the boxes do.
#[test]
fn bench_stability_reports_deltas_and_flips_per_model() {
    let out = genderlens(&[
        "bench",
        "--stability",
        "--json",
        "--provider",
        "cpu",
        path_str(&common::photos_dir()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Each model choice side by side, measured on the same faces.
    for choice in ["dlib", "faceapi", "ensemble"] {
        let model = &report["models"][choice];
        assert_eq!(model["photos"], 8, "{choice}: {report}");
        assert_eq!(
            model["faces"], report["models"]["dlib"]["faces"],
            "{report}"
        );
        assert_eq!(
            model["variants"].as_u64(),
            model["faces"].as_u64().map(|f| f * 8)
        );
        let mean = model["mean_abs_delta"].as_f64().unwrap();
        assert!(mean > 0.0 && mean < 0.1, "{choice}: {report}");
        assert!(model["flips"].as_u64().is_some(), "{report}");
    }
}

/// `--model` picks the models: each face names the ones that answered, and
/// the ensemble's probability is the mean of the single models' answers.
#[test]
fn the_model_switch_picks_which_models_answer() {
    let photo = common::photo("obama.jpg");
    let face = |choice: &str| {
        let lines = jsonl_lines(classify_on_cpu(&photo, "jsonl", &["--model", choice]));
        lines[0]["faces"][0].clone()
    };
    let names = |face: &serde_json::Value| -> Vec<String> {
        face["models"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let dlib = face("dlib");
    assert_eq!(names(&dlib), ["age-v1", "gender-v1"], "{dlib}");
    assert_eq!(dlib["p_male"], dlib["models"]["gender-v1"]["p_male"]);
    assert_eq!(dlib["age"], dlib["models"]["age-v1"]["age"]);

    let faceapi = face("faceapi");
    assert_eq!(names(&faceapi), ["faceapi-agegender"], "{faceapi}");
    assert_eq!(
        faceapi["p_male"],
        faceapi["models"]["faceapi-agegender"]["p_male"]
    );

    let ensemble = face("ensemble");
    assert_eq!(
        names(&ensemble),
        ["age-v1", "faceapi-agegender", "gender-v1"]
    );
    let p = |v: &serde_json::Value| v.as_f64().unwrap();
    // The ensemble's dlib part also sees the mirror image, so its own
    // gender-v1 answer differs a little from dlib alone's.
    let own = &ensemble["models"];
    let mean = (p(&own["gender-v1"]["p_male"]) + p(&own["faceapi-agegender"]["p_male"])) / 2.0;
    assert!((p(&ensemble["p_male"]) - mean).abs() < 1e-5, "{ensemble}");
    assert!((p(&own["gender-v1"]["p_male"]) - p(&dlib["p_male"])).abs() < 0.05);
    assert_eq!(
        own["faceapi-agegender"], faceapi["models"]["faceapi-agegender"],
        "face-api runs the same way alone and in the ensemble"
    );
    let age_mean = (p(&own["age-v1"]["age"]) + p(&own["faceapi-agegender"]["age"])) / 2.0;
    assert!((p(&ensemble["age"]) - age_mean).abs() <= 0.1, "{ensemble}");

    let out = classify_on_cpu(&photo, "jsonl", &["--model", "resnet"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown model is a usage error"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ensemble") && stderr.contains("faceapi"),
        "{stderr}"
    );
}
