//! The real binary in a real window: starts Xvfb, opens GenderLens on the
//! fixture photos, waits for its "ready" log line, takes a screenshot of the
//! screen and checks what is on it, then quits with Ctrl+Q like a user.
//! Needs `Xvfb`, `import` (ImageMagick) and `xdotool`; without them the
//! test fails and says what to install.

mod common;

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

fn screenshot_path() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    dir.join("desktop-smoke.png")
}

#[test]
fn the_app_opens_classifies_a_folder_and_shows_the_results() {
    require("Xvfb", "xvfb");
    require("import", "imagemagick");
    require("xdotool", "xdotool");
    common::runtime();

    let (_xvfb, display) = start_xvfb();
    let home = tempfile::tempdir().unwrap();
    let runtime_dir = home.path().join("run");
    std::fs::create_dir(&runtime_dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let settings = home.path().join("settings.json");
    std::fs::write(&settings, r#"{"engine": {"provider": "cpu"}}"#).unwrap();

    let mut app = Command::new(env!("CARGO_BIN_EXE_genderlens"))
        .arg("--settings")
        .arg(&settings)
        .arg(common::photos_dir())
        .env("DISPLAY", &display)
        .env("XDG_RUNTIME_DIR", &runtime_dir)
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env_remove("WAYLAND_DISPLAY")
        .env("GENDERLENS_LOG", "warn,genderlens=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting genderlens");
    let stderr = app.stderr.take().unwrap();
    let mut app = KillOnDrop(app);

    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(remaining) {
            Ok(line) => {
                let ready = line.contains("ready: 8 results shown");
                seen.push(line);
                if ready {
                    break;
                }
            }
            Err(_) => panic!(
                "the app never reported its results as shown; its log:\n{}",
                seen.join("\n")
            ),
        }
    }
    let log = seen.join("\n");
    assert!(log.contains("Batch finished: 8 photos, 8 faces"), "{log}");

    let shot = screenshot_path();
    let status = Command::new("import")
        .args(["-window", "root"])
        .arg(&shot)
        .env("DISPLAY", &display)
        .status()
        .expect("running import");
    assert!(status.success());
    let image = image::open(&shot).expect("the screenshot").to_rgb8();
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
    let window = Command::new("xdotool")
        .args(["search", "--sync", "--name", "^GenderLens$"])
        .env("DISPLAY", &display)
        .output()
        .expect("xdotool search");
    let id = String::from_utf8_lossy(&window.stdout)
        .lines()
        .next()
        .expect("the GenderLens window")
        .to_string();
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
