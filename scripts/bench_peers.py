#!/usr/bin/env python3
"""The peers' side of lsq's benchmarks: scipy (and scikit-learn for solvers) on the same files lsq reads.

Prints one JSON object per call. Used by scripts/bench-core and scripts/bench-solvers; never a runtime dependency.
"""
import json
import resource
import sys
import time

import numpy as np
import scipy
import scipy.io
import scipy.sparse


def median(repeats, fn):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


def core(path, aat):
    holder = {}

    def parse():
        holder["A"] = scipy.io.mmread(path).tocsr()

    out = {"scipy": scipy.__version__, "numpy": np.__version__}
    out["parseSeconds"] = median(3, parse)
    A = holder["A"]
    rng = np.random.default_rng(1)
    x = rng.standard_normal(A.shape[1])
    u = rng.standard_normal(A.shape[0])
    out["spmvSeconds"] = median(20, lambda: A @ x)
    AT = A.T  # a CSC view: A.T @ u is scipy's transposed SpMV straight from the CSR arrays
    out["spmvTSeconds"] = median(20, lambda: AT @ u)
    if aat:
        res = {}

        def prod():
            res["C"] = A @ A.T

        out["aatSeconds"] = median(1, prod)
        out["aatNnz"] = int(res["C"].nnz)
    out["peakRSSBytes"] = peak_rss()
    print(json.dumps(out))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "core":
        core(sys.argv[2], "--aat" in sys.argv)
    else:
        sys.exit("usage: bench_peers.py core FILE [--aat]")
