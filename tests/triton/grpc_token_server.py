"""A small gRPC server speaking Triton's GRPCInferenceService (the stubs from
tritonclient), for the remote fault tests. Prints its port, then serves until
killed.

  grpc_token_server.py LOG         checks the bearer token: every call's
      `authorization` metadata is appended to LOG, then the call fails with
      INVALID_ARGUMENT "token accepted" when it is `Bearer s3cret-token`, and
      with UNAUTHENTICATED "no valid token" otherwise.
  grpc_token_server.py LOG --huge  answers model metadata with the right
      contract, and every inference with a 24 MB output, more than any
      photo's result could need."""

import sys
from concurrent import futures

import grpc
from tritonclient.grpc import service_pb2, service_pb2_grpc

EXPECTED = "Bearer s3cret-token"
log_path = sys.argv[1]
huge = "--huge" in sys.argv[2:]


def check(request, context):
    metadata = dict(context.invocation_metadata())
    token = metadata.get("authorization", "")
    with open(log_path, "a") as log:
        log.write(token + "\n")
    if token == EXPECTED:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "token accepted")
    context.abort(grpc.StatusCode.UNAUTHENTICATED, "no valid token")


class TokenChecker(service_pb2_grpc.GRPCInferenceServiceServicer):
    pass


for name in dir(service_pb2_grpc.GRPCInferenceServiceServicer):
    if not name.startswith("_"):
        setattr(TokenChecker, name, lambda self, request, context: check(request, context))


def metadata(self, request, context):
    tensor = service_pb2.ModelMetadataResponse.TensorMetadata
    return service_pb2.ModelMetadataResponse(
        name=request.name,
        inputs=[tensor(name="IMAGE_BYTES", datatype="BYTES", shape=[1])],
        outputs=[tensor(name="OUTPUT_JSON", datatype="BYTES", shape=[1])],
    )


def infer(self, request, context):
    output = service_pb2.ModelInferResponse.InferOutputTensor(
        name="OUTPUT_JSON", datatype="BYTES", shape=[1]
    )
    return service_pb2.ModelInferResponse(
        model_name=request.model_name,
        outputs=[output],
        raw_output_contents=[b"x" * (24 * 1024 * 1024)],
    )


if huge:
    TokenChecker.ModelMetadata = metadata
    TokenChecker.ModelInfer = infer

server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(TokenChecker(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
server.wait_for_termination()
