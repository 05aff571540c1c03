#!/usr/bin/env python3
"""Remote throughput: GenderLens's Triton clients against NVIDIA's own
tritonclient, on the same Triton server, model repository and photos.

Starts tritonserver (from the venv tests/triton/setup.sh prepares) with the
CPU model repository, sends the fixture photos REPEAT times with each client
at the same concurrency, and prints images/s for each and their ratio.

    python3 tests/bench/remote.py [REPEAT] [CONCURRENCY]
"""
import concurrent.futures
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.environ.get(
    "GENDERLENS_TRITON_VENV", os.path.expanduser("~/.cache/genderlens/triton-venv")
)
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_triton(work):
    python = os.path.join(VENV, "bin", "python")
    repo = os.path.join(work, "models")
    subprocess.run(
        [python, os.path.join(ROOT, "packaging/server/make_repository.py"), "--variant", "cpu", repo],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    server = glob.glob(os.path.join(VENV, "lib/python3*/site-packages/pytriton/tritonserver"))[0]
    http, grpc, metrics = free_port(), free_port(), free_port()
    env = dict(os.environ, PATH=os.path.join(VENV, "bin") + ":" + os.environ["PATH"])
    log = open(os.path.join(work, "triton.log"), "w")
    proc = subprocess.Popen(
        [
            os.path.join(server, "bin/tritonserver"),
            f"--model-repository={repo}",
            f"--backend-directory={server}/backends",
            "--model-control-mode=none",
            "--disable-auto-complete-config",
            "--exit-on-error=true",
            "--http-address=127.0.0.1",
            f"--http-port={http}",
            "--grpc-address=127.0.0.1",
            f"--grpc-port={grpc}",
            "--metrics-address=127.0.0.1",
            f"--metrics-port={metrics}",
            "--allow-gpu-metrics=false",
            "--pinned-memory-pool-byte-size=0",
            "--cuda-memory-pool-byte-size=0:0",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        # Its own process group, so its python backend stubs stop with it.
        start_new_session=True,
    )
    for _ in range(600):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{http}/v2/health/ready").status == 200:
                return proc, http, grpc
        except OSError:
            time.sleep(0.2)
    raise SystemExit("tritonserver did not start; see " + log.name)


def stop_triton(proc):
    """Stops the server, then whatever is left of its process group (its
    python backend stubs)."""
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def tritonclient_rate(grpc, photos, concurrency):
    sys.path.insert(0, glob.glob(os.path.join(VENV, "lib/python3*/site-packages"))[0])
    import numpy as np
    import tritonclient.grpc as client

    def one(path):
        server = client.InferenceServerClient(f"127.0.0.1:{grpc}")
        data = np.array([open(path, "rb").read()], dtype=np.object_)
        tensor = client.InferInput("IMAGE_BYTES", [1], "BYTES")
        tensor.set_data_from_numpy(data)
        server.infer("gender_ensemble", [tensor]).as_numpy("OUTPUT_JSON")

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, photos))
    return len(photos) / (time.perf_counter() - started)


def genderlens_rate(url, folder, concurrency):
    binary = os.path.join(TARGET, "release", "genderlens")
    out = subprocess.run(
        # A one-off run (no library to answer repeats from), its output thrown away.
        [binary, "classify", "--remote", url, "--max-in-flight", str(concurrency),
         "--no-library", "--format", "jsonl", "-o", os.devnull, "--force", folder],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"([0-9.]+) images/s", out.stderr)
    return float(match.group(1))


def main():
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    fixtures = sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/photos/*")))
    with tempfile.TemporaryDirectory() as work:
        folder = os.path.join(work, "photos")
        os.mkdir(folder)
        for n in range(repeat):
            for path in fixtures:
                shutil.copy(path, os.path.join(folder, f"{n}-{os.path.basename(path)}"))
        photos = sorted(glob.glob(os.path.join(folder, "*")))
        proc, http, grpc = start_triton(work)
        try:
            tritonclient_rate(grpc, photos[: len(fixtures)], concurrency)  # warm-up
            theirs = tritonclient_rate(grpc, photos, concurrency)
            grpc_rate = genderlens_rate(f"triton-grpc://127.0.0.1:{grpc}", folder, concurrency)
            http_rate = genderlens_rate(f"triton-http://127.0.0.1:{http}", folder, concurrency)
        finally:
            stop_triton(proc)
    print(f"{len(photos)} photos, concurrency {concurrency}")
    print(f"tritonclient (gRPC):     {theirs:6.1f} images/s")
    print(f"GenderLens triton-grpc:  {grpc_rate:6.1f} images/s  ratio {grpc_rate / theirs:.2f}")
    print(f"GenderLens triton-http:  {http_rate:6.1f} images/s  ratio {http_rate / theirs:.2f}")


if __name__ == "__main__":
    main()
