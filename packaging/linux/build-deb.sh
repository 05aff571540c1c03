#!/usr/bin/env bash
# Builds the Debian package from a clean checkout: the release binary, the
# CPU build of ONNX Runtime (fetched from PyPI once), the models, the desktop
# entry, icons and AppStream metadata. Prints the path of the .deb.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-target}

if ! cargo deb --version >/dev/null 2>&1; then
    echo "build-deb: installing cargo-deb (once)" >&2
    cargo install cargo-deb --locked --version 3.8.0 >&2
fi

cargo build --release --locked >&2
# `runtime fetch` prints the folder holding the libraries (a no-op when present).
runtime_dir=$("$target/release/genderlens" runtime fetch)
staged="$target/release/deb-runtime"
rm -rf "$staged"
mkdir -p "$staged"
cp "$runtime_dir"/libonnxruntime*.so* "$staged/"

# The manual page, from the same definitions as `--help`.
"$target/release/genderlens" man | gzip -9n > "$target/release/genderlens.1.gz"

mkdir -p "$target/debian"
cargo deb --no-build --locked --strip --no-separate-debug-symbols --output "$target/debian/" >&2
ls -t "$target"/debian/genderlens_*.deb | head -n 1
