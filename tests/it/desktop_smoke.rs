//! The real binary in a real window: starts Xvfb, opens GenderLens, drags
//! the fixture folder over it (a real XDND drag, as a file manager does) and
//! checks the drop zone lights up, drops it, waits for the "ready" log line,
//! takes a screenshot and checks what is on it, then quits with Ctrl+Q.
//! Needs `Xvfb`, `import` (ImageMagick), `xdotool` and python3-xlib; without
//! them the test fails and says what to install.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn require(tool: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "\n\n`{tool}` IS MISSING — the desktop smoke test needs it. Install Debian's `{package}` \
         (the README's test command does this when run as root).\n\n"
    );
}

/// A display number nobody uses, and its X server, ready for clients.
fn start_xvfb() -> (KillOnDrop, String) {
    // Tests run in parallel: one picks a number and starts its server before
    // the next looks, or both would take the same free number.
    static PICKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _picking = PICKING.lock().unwrap_or_else(|e| e.into_inner());
    for number in 90..140 {
        if Path::new(&format!("/tmp/.X11-unix/X{number}")).exists()
            || Path::new(&format!("/tmp/.X{number}-lock")).exists()
        {
            continue;
        }
        let display = format!(":{number}");
        let child = Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting Xvfb");
        let xvfb = KillOnDrop(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let probe = Command::new("xdotool")
                .arg("getdisplaygeometry")
                .env("DISPLAY", &display)
                .output();
            if probe.is_ok_and(|o| o.status.success()) {
                return (xvfb, display);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("Xvfb on {display} did not start");
    }
    panic!("no free X display number");
}

fn screenshot(display: &str, name: &str) -> (PathBuf, image::RgbImage) {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let status = Command::new("import")
        .args(["-window", "root"])
        .arg(&path)
        .env("DISPLAY", display)
        .status()
        .expect("running import");
    assert!(status.success());
    let image = image::open(&path).expect("the screenshot").to_rgb8();
    (path, image)
}

/// The python that has Xlib: Debian's, even where another python3 comes first on PATH.
fn python_with_xlib() -> &'static str {
    for python in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(python)
            .args(["-c", "import Xlib"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return python;
        }
    }
    panic!(
        "\n\npython3-xlib IS MISSING — the desktop smoke test drags files with it. Install Debian's `python3-xlib`.\n\n"
    );
}

/// Bright pixels along the drop zone's left border (drawn 12 px in from the edge).
fn drop_zone_border(image: &image::RgbImage) -> usize {
    (100..image.height().min(700))
        .flat_map(|y| (12..17).map(move |x| (x, y)))
        .filter(|&(x, y)| image.get_pixel(x, y).0.iter().all(|&c| c > 180))
        .count()
}

fn xdnd(display: &str, window: &str, extra: &[&str]) -> Child {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xdnd_drop.py");
    Command::new(python_with_xlib())
        .arg(script)
        .args([window, "600", "400"])
        .arg(common::photos_dir())
        .args(extra)
        .env("DISPLAY", display)
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the drag")
}

fn find_window(display: &str) -> String {
    let window = Command::new("xdotool")
        .args(["search", "--sync", "--name", "^GenderLens$"])
        .env("DISPLAY", display)
        .output()
        .expect("xdotool search");
    String::from_utf8_lossy(&window.stdout)
        .lines()
        .next()
        .expect("the GenderLens window")
        .to_string()
}

#[test]
fn the_app_opens_classifies_a_folder_and_shows_the_results() {
    require("Xvfb", "xvfb");
    require("import", "imagemagick");
    require("xdotool", "xdotool");
    python_with_xlib();
    common::runtime();

    let (_xvfb, display) = start_xvfb();
    let home = tempfile::tempdir().unwrap();
    let (mut app, lines) = launch_in(&display, home.path(), &[]);
    let id = find_window(&display);

    // Files dragged over the window: the drop zone lights up.
    let (_, before) = screenshot(&display, "desktop-smoke-before.png");
    let mut hover = xdnd(&display, &id, &["--hover-only", "10"]);
    let mut said = String::new();
    BufReader::new(hover.stdout.take().unwrap())
        .read_line(&mut said)
        .unwrap();
    assert_eq!(
        said.trim(),
        "hovering",
        "the window did not accept the drag"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let (hover_shot, lit) = loop {
        let (path, image) = screenshot(&display, "desktop-smoke-hover.png");
        let lit = drop_zone_border(&image);
        if lit > 1000 || Instant::now() > deadline {
            break (path, lit);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        lit > 1000 && drop_zone_border(&before) < 100,
        "no drop zone highlight while files hover ({lit} border pixels); see {}",
        hover_shot.display()
    );
    let _ = hover.kill();
    let _ = hover.wait();

    // The folder dropped for real: winit hands the path to the app.
    let drop = xdnd(&display, &id, &[]).wait_with_output().unwrap();
    assert!(drop.status.success(), "the drop failed");

    let log = wait_for_line(
        &lines,
        "ready: 8 results shown, 8 pictures cached",
        Instant::now() + Duration::from_secs(240),
    );
    assert!(log.contains("Batch finished: 8 photos, 8 faces"), "{log}");

    let (shot, image) = screenshot(&display, "desktop-smoke.png");
    // Face boxes and labels are drawn in the label colours: both must be on screen.
    let near = |p: &image::Rgb<u8>, c: [u8; 3]| {
        p.0.iter()
            .zip(c)
            .all(|(a, b)| (i16::from(*a) - i16::from(b)).abs() <= 6)
    };
    let female = image.pixels().filter(|p| near(p, [214, 84, 170])).count();
    let male = image.pixels().filter(|p| near(p, [52, 140, 230])).count();
    assert!(
        female > 200,
        "no female face boxes on screen ({female} pixels); see {}",
        shot.display()
    );
    assert!(
        male > 200,
        "no male face boxes on screen ({male} pixels); see {}",
        shot.display()
    );
    eprintln!("screenshot: {}", shot.display());

    // Quit like a user; the window's size and position are saved on the way out.
    let key = Command::new("xdotool")
        .args([
            "windowfocus",
            "--sync",
            &id,
            "key",
            "--window",
            &id,
            "ctrl+q",
        ])
        .env("DISPLAY", &display)
        .status()
        .expect("xdotool key");
    assert!(key.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = app.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the app did not quit on Ctrl+Q");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "exit status {status}");
    let saved_state = walk(&home.path().join("data"));
    assert!(
        saved_state
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "ron")),
        "the window state was not saved: {saved_state:?}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// The app under Xvfb with `home` as its home folders and its log on a channel.
fn launch_in(
    display: &str,
    home: &Path,
    args: &[&std::ffi::OsStr],
) -> (KillOnDrop, mpsc::Receiver<String>) {
    let runtime_dir = home.join("run");
    std::fs::create_dir_all(&runtime_dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let settings = home.join("settings.json");
    std::fs::write(&settings, r#"{"engine": {"provider": "cpu"}}"#).unwrap();
    let mut app = Command::new(env!("CARGO_BIN_EXE_genderlens"))
        .arg("--settings")
        .arg(&settings)
        .args(args)
        .env("DISPLAY", display)
        .env("XDG_RUNTIME_DIR", &runtime_dir)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("GENDERLENS_LIBRARY")
        .env_remove("WAYLAND_DISPLAY")
        .env("GENDERLENS_LOG", "warn,genderlens=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting genderlens");
    let stderr = app.stderr.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (KillOnDrop(app), lines)
}

/// The app's log up to the first line containing `needle`; fails with the
/// log when the line does not come by `deadline`.
fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str, deadline: Instant) -> String {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return seen.join("\n");
                }
            }
            Err(_) => panic!(
                "the app never logged {needle:?}; its log:\n{}",
                seen.join("\n")
            ),
        }
    }
}

fn count(library: &Path, query: &str) -> i64 {
    rusqlite::Connection::open(library)
        .and_then(|c| c.query_row(query, [], |r| r.get(0)))
        .unwrap_or(0)
}

/// Killed outright mid-batch, started again with `--resume`: every photo
/// ends up in the library once, and none kept before the kill is classified again.
#[test]
fn a_killed_app_resumes_its_batch_without_losing_or_repeating_a_photo() {
    require("Xvfb", "xvfb");
    require("import", "imagemagick");
    require("xdotool", "xdotool");
    common::runtime();
    let (_xvfb, display) = start_xvfb();
    let home = tempfile::tempdir().unwrap();
    let big = home.path().join("big");
    std::fs::create_dir(&big).unwrap();
    common::link_fixture_copies(&big, 20);
    // The default library, in the data folder.
    let library = home.path().join("data/genderlens/library.sqlite");

    let (mut app, _log) = launch_in(&display, home.path(), &[big.as_os_str()]);
    let deadline = Instant::now() + Duration::from_secs(240);
    while count(&library, "SELECT COUNT(*) FROM photos") < 10 {
        assert!(Instant::now() < deadline, "no answers reached the library");
        assert!(
            app.0.try_wait().unwrap().is_none(),
            "the app ended by itself"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    app.0.kill().unwrap();
    app.0.wait().unwrap();
    let kept_before = count(&library, "SELECT COUNT(*) FROM photos");
    assert!(kept_before < 160, "killed before the end");

    let (_app, log) = launch_in(&display, home.path(), &[std::ffi::OsStr::new("--resume")]);
    let text = wait_for_line(&log, "ready: 160 results shown", deadline);

    assert!(
        text.contains(&format!(
            "{kept_before} unchanged photos kept their results"
        )),
        "{text}"
    );
    let (shot, _) = screenshot(&display, "desktop-smoke-resumed.png");
    eprintln!("screenshot: {}", shot.display());
    assert_eq!(count(&library, "SELECT COUNT(*) FROM photos"), 160);
    assert_eq!(
        count(&library, "SELECT COUNT(*) FROM photos WHERE run_id = 2"),
        160 - kept_before,
        "the resumed batch classified exactly what was missing"
    );
    assert_eq!(
        count(
            &library,
            "SELECT COUNT(*) FROM runs WHERE id = 1 AND state = 'resumed'"
        ),
        1
    );
}
