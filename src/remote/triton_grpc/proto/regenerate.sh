#!/usr/bin/env bash
# Regenerates inference.rs from the vendored .proto files with
# tonic-prost-build and protox (a protobuf parser in Rust, so no protoc).
# Run it after updating the .proto files; commit the result.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
cargo new -q --vcs none generate
cd generate
cargo add -q tonic-prost-build@0.14 protox@0.9
cat > src/main.rs <<'RS'
fn main() {
    let mut args = std::env::args().skip(1);
    let (protos, out) = (args.next().unwrap(), args.next().unwrap());
    let files = protox::compile(["grpc_service.proto"], [protos]).expect("parsing the protos");
    tonic_prost_build::configure()
        .build_server(false)
        .out_dir(out)
        .compile_fds(files)
        .expect("generating Rust");
}
RS
cargo run -q -- "$here" "$here"
echo "wrote $here/inference.rs"
