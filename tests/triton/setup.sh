#!/usr/bin/env bash
# Installs a real NVIDIA Triton Inference Server for the remote tests: the
# stock tritonserver 2.51 binary and its python backend from PyPI's
# nvidia-pytriton, in a venv with the packages the model repository's
# python models import, plus tritonclient for the cross-check and onnx for
# assembling the GPU repository (once). Then builds the genderlens_pipeline
# wheel from python/ with maturin, offline from the crates Cargo.lock
# pins, and installs it into the venv (every run; a no-op while the wheel
# is unchanged). Needs the Debian packages python3-venv and libpython3.11.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${GENDERLENS_TRITON_VENV:-$HOME/.cache/genderlens/triton-venv}"
# Bump the marker's number when the packages below change.
marker="$venv/.genderlens-ready-4"
python=/usr/bin/python3
if [ ! -f "$marker" ]; then
    version="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    echo "tests/triton/setup.sh: installing Triton into $venv (about 500 MB, once)" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        nvidia-pytriton==0.7.0 "tritonclient[grpc,http]==2.73.0" onnx==1.23.2 \
        maturin==1.16.0 -r packaging/server/requirements.txt
    server="$venv/lib/python$version/site-packages/pytriton/tritonserver"
    stub="$server/python_backend_stubs/$version/triton_python_backend_stub"
    if [ ! -x "$stub" ]; then
        echo "tests/triton/setup.sh: Triton has no python backend stub for Python $version" >&2
        exit 1
    fi
    # PyTriton copies the stub for the running Python at start-up; a bare
    # tritonserver needs it in place.
    cp "$stub" "$server/backends/python/"
    touch "$marker"
fi

# The extension the python steps call: every crate it needs is fetched
# first (maturin reads the whole workspace's metadata), then it is built
# with no network.
cargo fetch --locked --quiet
wheels="${CARGO_TARGET_DIR:-target}/wheels"
rm -rf "$wheels"
"$venv/bin/maturin" build --quiet --release --locked --offline --strip \
    --interpreter "$python" -m python/Cargo.toml --out "$wheels" >&2
wheel="$(ls "$wheels"/genderlens_pipeline-*.whl)"
digest="$(sha256sum "$wheel" | cut -d' ' -f1)"
installed="$venv/.genderlens-pipeline-wheel"
if [ "$(cat "$installed" 2>/dev/null)" != "$digest" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --force-reinstall "$wheel"
    echo "$digest" > "$installed"
fi
