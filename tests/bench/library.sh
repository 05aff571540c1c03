#!/usr/bin/env bash
# Library benchmark.
#   1. Re-run: classify a folder of N photos (default 1000) into a fresh
#      library, replace one photo, classify the folder again; prints both
#      times and their ratio (the second run classifies one photo and
#      answers the rest from the library).
#   2. Scale: a generated library of M photos (default 100000, each with the
#      faces of a real fixture answer) opened in the real window under Xvfb,
#      table view: the time to read it, the UI thread's cost per frame and
#      the process's peak RSS.
# Usage: tests/bench/library.sh [N] [M]   (needs xvfb and a release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
photos=${1:-1000}
library_size=${2:-100000}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
bin="$target/release/genderlens"

work=$(mktemp -d)
xvfb=
trap '[ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/photos" "$work/run" && chmod 700 "$work/run"
fixtures=(tests/fixtures/photos/*)
for ((i = 0; i < photos; i++)); do
    src=${fixtures[$((i % ${#fixtures[@]}))]}
    cp "$src" "$work/photos/$i-$(basename "$src")"
done

classify() {
    local start end
    start=$(date +%s.%N)
    "$bin" classify "$work/photos" --provider cpu --format jsonl \
        --library "$work/rerun.sqlite" >/dev/null 2>"$work/classify.log"
    end=$(date +%s.%N)
    python3 -c "print(round($end - $start, 2))"
}
first=$(classify)
# One photo replaced by another one's bytes.
cp tests/fixtures/photos/biden.jpg "$work/photos/0-$(basename "${fixtures[0]}")"
second=$(classify)
echo "== re-run of $photos photos after one changed"
echo "first run:  $first s"
echo "second run: $second s ($(python3 -c "print(round(100 * $second / $first, 1))")% of the first)"
grep -E "unchanged|images:" "$work/classify.log"

# A library of M photos, made from the first run's answers.
python3 - "$work" "$library_size" <<'PY'
import os, sqlite3, sys
work, n = sys.argv[1], int(sys.argv[2])
seed = sqlite3.connect(os.path.join(work, "rerun.sqlite"))
big_path = os.path.join(work, "big.sqlite")
seed.execute(f"VACUUM INTO '{big_path}'")
big = sqlite3.connect(big_path)
photos = big.execute("SELECT * FROM photos ORDER BY id").fetchall()
faces = big.execute("SELECT * FROM faces ORDER BY photo_id, face").fetchall()
errors = big.execute("SELECT * FROM errors").fetchall()
by_photo = {}
for f in faces:
    by_photo.setdefault(f[0], []).append(f)
columns = [c[1] for c in big.execute("PRAGMA table_info(photos)")]
big.execute("DELETE FROM faces")
big.execute("DELETE FROM errors")
big.execute("DELETE FROM photos")
path_col, key_col, id_col = columns.index("path"), columns.index("path_key"), columns.index("id")
with big:
    for i in range(n):
        row = list(photos[i % len(photos)])
        old_id = row[id_col]
        row[id_col] = i + 1
        row[path_col] = f"{row[path_col]}.{i}"
        row[key_col] = row[path_col].encode()
        big.execute(f"INSERT INTO photos VALUES ({','.join('?' * len(row))})", row)
        for f in by_photo.get(old_id, []):
            big.execute(f"INSERT INTO faces VALUES ({','.join('?' * len(f))})", (i + 1, *f[1:]))
        for e in errors:
            if e[0] == old_id:
                big.execute("INSERT INTO errors VALUES (?, ?, ?)", (i + 1, *e[1:]))
print(f"generated {n} photos, {big.execute('SELECT COUNT(*) FROM faces').fetchone()[0]} faces")
PY

display=:$((150 + RANDOM % 100))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
sleep 1
echo '{"engine": {"provider": "cpu"}}' > "$work/settings.json"
DISPLAY=$display XDG_RUNTIME_DIR=$work/run XDG_DATA_HOME=$work/data GENDERLENS_LOG=warn,genderlens=info \
    "$bin" --settings "$work/settings.json" --library "$work/big.sqlite" --table \
    --exit-when-done --frame-stats "$work/library.json" 2>"$work/app.log"
echo "== library of $library_size photos, table view"
grep -o "[0-9]* photos from the library.*" "$work/app.log" || true
cat "$work/library.json"
echo
