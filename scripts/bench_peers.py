#!/usr/bin/env python3
"""The peers' side of lsq's benchmarks: scipy (and scikit-learn for solvers) on the same files lsq reads.

Prints one JSON object per call. Used by scripts/bench-core and scripts/bench-solvers; never a runtime dependency.
"""
import json
import os
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


# Solver timings: the median of this many fits (bench-solvers passes the same count to lsq's side).
REPEATS = max(1, int(os.environ.get("LSQ_BENCH_REPEATS", "1")))


def timed(fit):
    """Runs fit() REPEATS times; returns (median seconds, the last result)."""
    times, result = [], None
    for _ in range(REPEATS):
        t = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2], result


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


def core(path, aat, dump=None):
    holder = {}

    def parse():
        # lsq's reader returns canonical CSR, so the peer's parse includes the conversion to CSR.
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
    if dump:
        # The CSR arrays as raw files for scripts/spmv_reference.c (the C yardstick), after the timings.
        os.makedirs(dump, exist_ok=True)
        np.asarray(A.indptr, dtype=np.int64).tofile(os.path.join(dump, "indptr.i64"))
        np.asarray(A.indices, dtype=np.int32).tofile(os.path.join(dump, "indices.i32"))
        np.asarray(A.data, dtype=np.float64).tofile(os.path.join(dump, "data.f64"))
    print(json.dumps(out))


def load(path, ypath):
    A = scipy.io.mmread(path).tocsr()
    y = np.load(ypath)
    return A, y


def objective(A, y, x, l1=0.0, l2=0.0):
    r = y - A @ x
    return 0.5 * r @ r + l1 * np.abs(x).sum() + 0.5 * l2 * x @ x


def lasso_gap(A, y, x, l1):
    """Duality gap of f(x) = ½‖y − Ax‖² + λ₁‖x‖₁ at x, with the dual point θ = r / max(1, ‖Aᵀr‖∞/λ₁)."""
    r = y - A @ x
    scale = max(1.0, np.abs(A.T @ r).max() / l1)
    theta = r / scale
    dual = 0.5 * y @ y - 0.5 * (y - theta) @ (y - theta)
    return objective(A, y, x, l1) - dual


def lambda_max(path, ypath):
    A, y = load(path, ypath)
    print(json.dumps({"lambdaMax": float(np.abs(A.T @ y).max()), "yNorm2": float(y @ y)}))


def lasso(path, ypath, l1, tol):
    from sklearn.linear_model import Lasso
    A, y = load(path, ypath)
    X = A.tocsc()
    m = A.shape[0]
    model = Lasso(alpha=l1 / m, fit_intercept=False, tol=tol, max_iter=100000, selection="cyclic")
    seconds, _ = timed(lambda: model.fit(X, y))
    x = model.coef_
    print(json.dumps({"seconds": seconds, "iterations": int(model.n_iter_), "objective": objective(A, y, x, l1),
                      "dualityGap": lasso_gap(A, y, x, l1), "nnzX": int(np.count_nonzero(x)),
                      "sklearn": __import__("sklearn").__version__, "peakRSSBytes": peak_rss()}))


def sgd(path, ypath, l2, epochs, eta0):
    from sklearn.linear_model import SGDRegressor
    A, y = load(path, ypath)
    m = A.shape[0]
    model = SGDRegressor(loss="squared_error", penalty="l2", alpha=l2 / m, fit_intercept=False, max_iter=epochs,
                         tol=None, learning_rate="invscaling", eta0=eta0, shuffle=True, random_state=0)
    seconds, _ = timed(lambda: model.fit(A, y))
    x = model.coef_
    print(json.dumps({"seconds": seconds, "epochs": epochs, "objective": objective(A, y, x, 0.0, l2),
                      "peakRSSBytes": peak_rss()}))


def krylov(kind, path, ypath, tol):
    from scipy.sparse.linalg import lsmr, lsqr
    A, y = load(path, ypath)
    if kind == "lsqr":
        seconds, res = timed(lambda: lsqr(A, y, atol=tol, btol=tol, iter_lim=10 * A.shape[1]))
    else:
        seconds, res = timed(lambda: lsmr(A, y, atol=tol, btol=tol, maxiter=10 * A.shape[1]))
    x, istop, itn = res[0], res[1], res[2]
    print(json.dumps({"seconds": seconds, "iterations": int(itn), "istop": int(istop), "objective": objective(A, y, x),
                      "peakRSSBytes": peak_rss()}))


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "core":
        core(rest[0], "--aat" in rest, rest[rest.index("--dump") + 1] if "--dump" in rest else None)
    elif cmd == "lambda-max":
        lambda_max(rest[0], rest[1])
    elif cmd == "lasso":
        lasso(rest[0], rest[1], float(rest[2]), float(rest[3]))
    elif cmd == "sgd":
        sgd(rest[0], rest[1], float(rest[2]), int(rest[3]), float(rest[4]))
    elif cmd in ("lsqr", "lsmr"):
        krylov(cmd, rest[0], rest[1], float(rest[2]))
    else:
        sys.exit("usage: bench_peers.py core|lambda-max|lasso|sgd|lsqr|lsmr ...")
