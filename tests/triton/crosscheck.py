"""One request with NVIDIA's own client (tritonclient), for the remote tests
to compare with GenderLens's answer: prints OUTPUT_JSON for one image.

    python crosscheck.py grpc|http HOST:PORT MODEL IMAGE
"""

import sys

import numpy as np


def main():
    protocol, url, model, path = sys.argv[1:5]
    if protocol == "grpc":
        import tritonclient.grpc as client
    else:
        import tritonclient.http as client
    server = client.InferenceServerClient(url)
    data = np.array([open(path, "rb").read()], dtype=np.object_)
    image = client.InferInput("IMAGE_BYTES", [1], "BYTES")
    if protocol == "grpc":
        image.set_data_from_numpy(data)
    else:
        image.set_data_from_numpy(data, binary_data=True)
    result = server.infer(model, [image])
    print(result.as_numpy("OUTPUT_JSON")[0].decode())


if __name__ == "__main__":
    main()
