#!/usr/bin/env bash
# UI benchmark: the UI thread's cost per frame (logic + layout + paint
# commands) in the real window under Xvfb, and the process's peak RSS.
#   1. while a batch of N photos (default 1000) runs, gallery view;
#   2. with M results (default 10000) loaded from a JSONL file, table view.
# Usage: tests/bench/ui.sh [N] [M]   (needs xvfb and a release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
photos=${1:-1000}
results=${2:-10000}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
bin="$target/release/genderlens"

work=$(mktemp -d)
trap 'kill "$xvfb" 2>/dev/null || true; rm -rf "$work"' EXIT
display=:$((150 + RANDOM % 100))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
sleep 1
mkdir -p "$work/photos" "$work/run" && chmod 700 "$work/run"
echo '{"engine": {"provider": "cpu"}}' > "$work/settings.json"

fixtures=(tests/fixtures/photos/*)
for ((i = 0; i < photos; i++)); do
    src=${fixtures[$((i % ${#fixtures[@]}))]}
    ln "$src" "$work/photos/$i-$(basename "$src")"
done
python3 - "$work" "$results" <<'PY'
import json, os, sys
work, n = sys.argv[1], int(sys.argv[2])
base = [json.loads(l) for l in open("tests/fixtures/results.jsonl") if '"ok"' in l]
photos = sorted(os.listdir(os.path.join(work, "photos")))
# One file per result: the app holds one row per photo.
os.makedirs(os.path.join(work, "many"))
with open(os.path.join(work, "results.jsonl"), "w") as out:
    for i in range(n):
        r = dict(base[i % len(base)])
        r["index"] = i
        name = photos[i % len(photos)]
        r["path"] = os.path.join(work, "many", f"{i}-{name}")
        os.link(os.path.join(work, "photos", name), r["path"])
        out.write(json.dumps(r) + "\n")
PY

run() {
    DISPLAY=$display XDG_RUNTIME_DIR=$work/run XDG_DATA_HOME=$work/data \
        "$bin" --no-library --settings "$work/settings.json" --exit-when-done --frame-stats "$work/$1.json" "${@:2}" \
        2>/dev/null
    echo "== $1"
    cat "$work/$1.json"
    echo
}
run "batch-$photos-photos" "$work/photos"
run "table-$results-results" --table --open-results "$work/results.jsonl"
