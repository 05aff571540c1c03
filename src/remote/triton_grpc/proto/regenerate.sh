#!/usr/bin/env bash
# Regenerates inference.rs from the vendored .proto files with the pinned,
# locked generator in tools/grpc-codegen (tonic-prost-build and protox, a
# protobuf parser in Rust, so no protoc). Run it after updating the .proto
# files and commit the result; with --check it only verifies that the
# committed file is what the generator writes (CI runs that).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run --quiet --locked --manifest-path "$root/tools/grpc-codegen/Cargo.toml" -- "$here" "$out"
if [ "${1:-}" = "--check" ]; then
    if ! cmp -s "$out/inference.rs" "$here/inference.rs"; then
        echo "src/remote/triton_grpc/proto/inference.rs differs from what tools/grpc-codegen generates:" >&2
        diff -u "$here/inference.rs" "$out/inference.rs" | head -40 >&2 || true
        echo "run src/remote/triton_grpc/proto/regenerate.sh and commit the result" >&2
        exit 1
    fi
    echo "inference.rs matches the protos"
else
    cp "$out/inference.rs" "$here/inference.rs"
    echo "wrote $here/inference.rs"
fi
