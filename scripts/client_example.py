#!/usr/bin/env python3
"""scripts/client_example.py: submit → poll → fetch against `lsq serve` with `requests`.

    lsq serve --port 8080 --data-dir ./lsq-data [--token T]      (in another terminal)
    LSQ_URL=http://127.0.0.1:8080 LSQ_TOKEN=T python3 scripts/client_example.py

Builds a small random least-squares problem, submits it as JSON (COO, 0-based), long-polls the job,
fetches x as dense JSON and as .npy bytes, and checks the residual against numpy's lstsq when numpy
is available.
"""
import io
import os
import random
import sys

import requests

URL = os.environ.get("LSQ_URL", "http://127.0.0.1:8080")
TOKEN = os.environ.get("LSQ_TOKEN")
session = requests.Session()  # keep-alive
if TOKEN:
    session.headers["Authorization"] = f"Bearer {TOKEN}"


def check(response, *expected):
    if response.status_code not in expected:
        try:
            error = response.json()["error"]
            message = f"{error['code']}: {error['message']}"
        except Exception:
            message = response.text
        sys.exit(f"{response.request.method} {response.url} answered {response.status_code}: {message}")
    return response


def main():
    rng = random.Random(7)
    m, n = 60, 8
    rows, cols, values = [], [], []
    for i in range(m):
        for j in range(n):
            if rng.random() < 0.4:
                rows.append(i)
                cols.append(j)
                values.append(rng.uniform(-1, 1))
    y = [rng.uniform(-1, 1) for _ in range(m)]
    problem = {
        "A": {"format": "coo", "shape": [m, n], "rows": rows, "cols": cols, "values": values},
        "y": y,
        "options": {"solver": "lsqr", "tol": 1e-10},
    }

    # 1. Submit: 202 Accepted, the job resource and its Location.
    job = check(session.post(f"{URL}/v1/jobs", json=problem, timeout=30), 202).json()
    print("submitted", job["id"], "->", job["status"])

    # 2. Poll with a long-poll: the server answers as soon as the job is finished (or after `wait` seconds).
    for _ in range(30):
        job = check(session.get(f"{URL}/v1/jobs/{job['id']}", params={"wait": 5}, timeout=30), 200).json()
        if job.get("progress"):
            print("progress", job["progress"])
        if job["status"] in ("succeeded", "failed", "cancelled", "interrupted"):
            break
    print("status", job["status"], job.get("report", job.get("error")))
    if job["status"] != "succeeded":
        return 1

    # 3. Fetch x: dense JSON, and the same as .npy.
    x = check(session.get(f"{URL}/v1/jobs/{job['id']}/solution", timeout=30), 200).json()["x"]
    npy = check(session.get(f"{URL}/v1/jobs/{job['id']}/solution", headers={"Accept": "application/x-npy"}, timeout=30), 200).content
    print("x =", x)
    try:
        import numpy as np
        a = np.zeros((m, n))
        for i, j, v in zip(rows, cols, values):
            a[i, j] += v
        reference = np.linalg.lstsq(a, np.array(y), rcond=None)[0]
        print("max |x - lstsq| =", float(np.max(np.abs(np.array(x) - reference))))
        print("npy matches JSON:", bool(np.array_equal(np.load(io.BytesIO(npy)), np.array(x))))
    except ImportError:
        print("(numpy not installed: skipping the lstsq comparison)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
