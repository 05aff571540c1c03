#!/usr/bin/env python3
"""Triton's own throughput for gender_ensemble over a concurrency sweep,
measured the way perf_analyzer measures it, with NVIDIA's tritonclient.

Starts tritonserver (from the venv tests/triton/setup.sh prepares) with the
CPU model repository, warms it up, then for each concurrency keeps that many
requests in flight for SECONDS and prints images/s with latency percentiles.
With --shared-memory the photo travels through system shared memory instead
of inside the gRPC message, as perf_analyzer's --shared-memory system does.

    python3 tests/bench/triton_sweep.py [--concurrency 1,2,4,8] [--seconds 10]
                                        [--shared-memory] [--photo PATH]
    python3 tests/bench/triton_sweep.py --perf-analyzer-input input.json

The second form only writes perf_analyzer's --input-data file for the photo
(see packaging/server/README.md).
"""
import argparse
import base64
import glob
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from remote import ROOT, VENV, start_triton, stop_triton  # noqa: E402

MODEL = "gender_ensemble"


def tritonclient():
    sys.path.insert(0, glob.glob(os.path.join(VENV, "lib/python3*/site-packages"))[0])
    import numpy as np
    import tritonclient.grpc as client
    import tritonclient.utils.shared_memory as shm
    from tritonclient.utils import serialize_byte_tensor, serialized_byte_size

    return np, client, shm, serialize_byte_tensor, serialized_byte_size


def run_level(grpc, photo, concurrency, seconds, shared_memory):
    np, client, shm, serialize_byte_tensor, serialized_byte_size = tritonclient()
    tensor_bytes = np.array([photo], dtype=np.object_)
    latencies = []
    failures = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(n):
        try:
            measure(n)
        except Exception as e:  # reported once the level ends
            with lock:
                failures.append(e)

    def measure(n):
        server = client.InferenceServerClient(f"127.0.0.1:{grpc}")
        tensor = client.InferInput("IMAGE_BYTES", [1], "BYTES")
        region = None
        if shared_memory:
            serialized = serialize_byte_tensor(tensor_bytes)
            size = serialized_byte_size(serialized)
            name = f"genderlens_sweep_{os.getpid()}_{n}"
            region = shm.create_shared_memory_region(name, f"/{name}", size)
            shm.set_shared_memory_region(region, [serialized])
            server.register_system_shared_memory(name, f"/{name}", size)
            tensor.set_shared_memory(name, size)
        else:
            tensor.set_data_from_numpy(tensor_bytes)
        mine = []
        try:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                server.infer(MODEL, [tensor]).as_numpy("OUTPUT_JSON")
                mine.append(time.perf_counter() - started)
        finally:
            if region is not None:
                server.unregister_system_shared_memory(f"genderlens_sweep_{os.getpid()}_{n}")
                shm.destroy_shared_memory_region(region)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"concurrency {concurrency}: {failures[0]!r}")
    latencies.sort()

    def percentile(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return len(latencies) / elapsed, percentile(50), percentile(95), percentile(99)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--shared-memory", action="store_true")
    parser.add_argument("--photo", default=os.path.join(ROOT, "tests/fixtures/photos/obama.jpg"))
    parser.add_argument("--perf-analyzer-input", metavar="FILE")
    args = parser.parse_args()
    photo = open(args.photo, "rb").read()

    if args.perf_analyzer_input:
        data = {"data": [{"IMAGE_BYTES": {"b64": base64.b64encode(photo).decode(), "shape": [1]}}]}
        with open(args.perf_analyzer_input, "w") as out:
            json.dump(data, out)
        return

    levels = [int(c) for c in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory() as work:
        proc, _http, grpc = start_triton(work)
        try:
            run_level(grpc, photo, 2, 2.0, args.shared_memory)  # warm-up
            transport = "in system shared memory" if args.shared_memory else "in the gRPC message"
            print(f"{MODEL}, {os.path.basename(args.photo)}, photo {transport}, {args.seconds:g} s a level")
            print("concurrency  images/s   p50 ms   p95 ms   p99 ms")
            for concurrency in levels:
                rate, p50, p95, p99 = run_level(
                    grpc, photo, concurrency, args.seconds, args.shared_memory
                )
                print(f"{concurrency:>11}  {rate:8.1f}  {p50:7.0f}  {p95:7.0f}  {p99:7.0f}")
        finally:
            stop_triton(proc)


if __name__ == "__main__":
    main()
