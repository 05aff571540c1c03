#!/usr/bin/env python3
"""Gateway throughput: POSTs the fixture photos to a running `genderlens serve`
at several concurrency levels and prints images/s and latency percentiles.

    genderlens serve --listen 127.0.0.1:8080 &
    python3 tests/bench/gateway.py http://127.0.0.1:8080 [requests-per-level]
"""
import concurrent.futures
import glob
import json
import os
import sys
import time
import urllib.request
import uuid


def body_for(path):
    boundary = uuid.uuid4().hex
    with open(path, "rb") as f:
        data = f.read()
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
        f"filename=\"{os.path.basename(path)}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return boundary, head + data + f"\r\n--{boundary}--\r\n".encode()


def post(url, boundary, body):
    request = urllib.request.Request(
        url + "/predict",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        json.load(response)
    return time.perf_counter() - started


def main():
    url = sys.argv[1].rstrip("/")
    per_level = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    here = os.path.dirname(os.path.abspath(__file__))
    photos = sorted(glob.glob(os.path.join(here, "..", "fixtures", "photos", "*")))
    bodies = [body_for(p) for p in photos]
    post(url, *bodies[0])  # warm-up
    for concurrency in (1, 4, 16):
        jobs = [bodies[i % len(bodies)] for i in range(per_level)]
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            latencies = sorted(pool.map(lambda b: post(url, *b), jobs))
        elapsed = time.perf_counter() - started
        p50 = latencies[len(latencies) // 2] * 1e3
        p95 = latencies[int(len(latencies) * 0.95)] * 1e3
        print(
            f"concurrency {concurrency:2}: {per_level / elapsed:5.1f} images/s, "
            f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms"
        )


if __name__ == "__main__":
    main()
