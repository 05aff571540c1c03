"""A small gRPC server speaking Triton's GRPCInferenceService (the stubs from
tritonclient) that only checks the bearer token: every call's
`authorization` metadata is appended to LOG, then the call fails with
INVALID_ARGUMENT "token accepted" when it is `Bearer s3cret-token`, and with
UNAUTHENTICATED "no valid token" otherwise. Prints its port, then serves until
killed."""

import sys
from concurrent import futures

import grpc
from tritonclient.grpc import service_pb2_grpc

EXPECTED = "Bearer s3cret-token"
log_path = sys.argv[1]


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

server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(TokenChecker(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
server.wait_for_termination()
