#!/usr/bin/env bash
# Builds the .deb and checks it the way a user gets it: lintian (no errors),
# desktop-file-validate, appstreamcli; the unpacked binary run with nothing
# else around (it must find its bundled runtime and models through paths
# relative to itself); then a real `apt-get install`, a classification, and
# removal. The install step needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "test-deb: FAILED: $*" >&2; exit 1; }

for tool in lintian desktop-file-validate appstreamcli dpkg-deb dpkg-shlibdeps python3; do
    command -v "$tool" >/dev/null || fail "$tool is missing (Debian: lintian desktop-file-utils appstream dpkg-dev python3)"
done

deb=$(packaging/linux/build-deb.sh | tail -n 1)
[ -f "$deb" ] || fail "no package was built"
echo "test-deb: built $deb ($(du -h "$deb" | cut -f1))"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

lintian_ok=true
lintian --fail-on error --tag-display-limit 0 "$deb" > "$work/lintian.txt" 2>&1 || lintian_ok=false
grep -v "running with root privileges" "$work/lintian.txt" || true
$lintian_ok || fail "lintian reports errors"
echo "test-deb: lintian: no errors"
root="$work/root"
dpkg-deb -x "$deb" "$root"
desktop-file-validate "$root/usr/share/applications/genderlens.desktop" || fail "desktop-file-validate"
appstreamcli validate --no-net "$root/usr/share/metainfo/org.genderlens.GenderLens.metainfo.xml" >/dev/null \
    || fail "appstreamcli validate"
echo "test-deb: desktop entry and AppStream metadata valid"
zcat "$root/usr/share/man/man1/genderlens.1.gz" > "$work/genderlens.1" || fail "no manual page"
grep -q '^\.TH genderlens 1' "$work/genderlens.1" || fail "the manual page is not one"

# The unpacked binary in an empty home: no fetched runtime, no settings.
isolated() {
    env -i PATH=/usr/bin:/bin HOME="$work/home" XDG_DATA_HOME="$work/home/data" \
        XDG_CONFIG_HOME="$work/home/config" XDG_CACHE_HOME="$work/home/cache" "$@"
}
mkdir -p "$work/home"
isolated "$root/usr/bin/genderlens" doctor --json --provider cpu > "$work/doctor.json" \
    || fail "doctor failed: $(cat "$work/doctor.json")"
python3 - "$work/doctor.json" "$root" <<'PY' || fail "the unpacked binary did not use what it ships with"
import json, os, sys
report, root = json.load(open(sys.argv[1])), os.path.realpath(sys.argv[2])
runtime, models = report["runtime"], report["models"]
assert report["schema"] == 1 and runtime["ok"] and models["ok"], report
assert runtime["found_via"] == "bundled with the executable", runtime
assert os.path.realpath(runtime["path"]).startswith(root + "/usr/lib/genderlens/"), runtime
assert os.path.realpath(models["dir"]).startswith(root + "/usr/share/genderlens/models"), models
print("test-deb: unpacked binary uses", runtime["path"], "and", models["dir"])
PY
isolated "$root/usr/bin/genderlens" classify --provider cpu --format csv \
    "$PWD/tests/fixtures/photos/astronaut.png" > "$work/unpacked.csv" || fail "classify (unpacked)"
grep -q ",female," "$work/unpacked.csv" || fail "classify (unpacked) gave: $(cat "$work/unpacked.csv")"
[ ! -e "$work/home/data/genderlens/runtime" ] || fail "the unpacked binary fetched a runtime instead of using its own"
echo "test-deb: unpacked binary classifies"

if [ "$(id -u)" = 0 ]; then
    as_root=()
elif sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    fail "installing the package needs root (run as root, or with passwordless sudo)"
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(realpath "$deb")" >/dev/null \
    || fail "apt-get install"
[ -x /usr/bin/genderlens ] || fail "/usr/bin/genderlens is not there after installing"
[ -f /usr/share/applications/genderlens.desktop ] || fail "the desktop entry is not installed"
isolated /usr/bin/genderlens classify --provider cpu --format csv \
    "$PWD/tests/fixtures/photos/astronaut.png" > "$work/installed.csv" || fail "classify (installed)"
grep -q ",female," "$work/installed.csv" || fail "classify (installed) gave: $(cat "$work/installed.csv")"
echo "test-deb: installed package classifies"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq genderlens >/dev/null \
    || fail "apt-get remove"
[ ! -e /usr/bin/genderlens ] || fail "/usr/bin/genderlens is still there after removing"
echo "test-deb: removed; all package checks passed"
