//! Writes `inference.rs`, the Triton gRPC client, from the vendored
//! `grpc_service.proto` (and the `model_config.proto` it imports).
//!
//! Usage: genderlens-grpc-codegen PROTO_DIR OUT_DIR
//!
//! protox parses the protos in Rust, so no protoc is needed.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(protos), Some(out)) = (args.next(), args.next()) else {
        eprintln!("usage: genderlens-grpc-codegen PROTO_DIR OUT_DIR");
        return ExitCode::from(2);
    };
    let files = match protox::compile(["grpc_service.proto"], [&protos]) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("cannot parse the protos in {protos}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let generated = tonic_prost_build::configure()
        .build_server(false)
        // A photo read into its tensor goes into the message as it is, not
        // copied into a second buffer.
        .bytes(".inference.ModelInferRequest.raw_input_contents")
        .out_dir(&out)
        .compile_fds(files);
    match generated {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot generate the client: {e}");
            ExitCode::FAILURE
        }
    }
}
