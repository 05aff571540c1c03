#!/usr/bin/env bash
# Runs each fuzz target for a while and prints what it did.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     (default: 600 s, every target)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). The stable
# toolchain is enough: RUSTC_BOOTSTRAP=1 lets it take the nightly-only flags
# that libFuzzer's instrumentation needs. SANITIZER=address builds with
# AddressSanitizer instead of the default `none` (faster, still catches
# panics, integer overflows (debug assertions are on) and out-of-bounds
# indexing).
#
# New interesting inputs go to fuzz/corpus/TARGET (not committed); the
# committed seeds in fuzz/seeds/TARGET are read as well. A crash stops the
# target and leaves its input in fuzz/artifacts/TARGET: fix the bug, then
# copy the input to fuzz/regressions/TARGET/, where the test suite replays
# it (tests/it/fuzz_regressions.rs).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(decode centerface shape_predictor kserve multipart readers)
fi
sanitizer="${SANITIZER:-none}"
export RUSTC_BOOTSTRAP=1

cargo fuzz build --release --debug-assertions -s "$sanitizer"
mkdir -p logs
status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    log="logs/$target.log"
    echo "== $target: ${seconds} s"
    if ! cargo fuzz run --release --debug-assertions -s "$sanitizer" "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        echo "   FAILED, see fuzz/$log and fuzz/artifacts/$target/"
        status=1
    fi
    # The last status line: executions, coverage (edges), features, corpus.
    grep -E '^#[0-9]+' "$log" | tail -1 | sed 's/^/   /' || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | sed 's/^/   /' || true
done
exit "$status"
