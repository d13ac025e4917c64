// CSparseKernels: SpMV's gather and scatter loops with software prefetch of the matrix's streams.
//
// Why: a compressed line times a vector streams `val` and `idx` from memory and reads x (or updates acc) at
// random places. On the benchmark machine (2 Zen 5 cores, 1 MB L2 each) the random accesses miss L1 once per
// nonzero, and with those misses in flight the hardware prefetcher fetches the two streams late: one core
// pulled ~12 GB/s of the matrix against ~32 GB/s when the same loop read x from one place. Asking for the
// streams `LSQ_PREFETCH_AHEAD` entries ahead (8 KB of values, 4 KB of indices) hides that. Measured on the
// bench-core matrices (scripts/spmv_reference.c's kernels, 2 cores, medians of 15): A·x 200k × 100k
// 1.70–1.83 → 2.97–3.18 Gnnz/s, 1M × 500k 1.48–1.53 → 2.63–2.84 Gnnz/s; Aᵀ·x by scatter 1.56 → 2.36 and
// 1.63 → 2.22 Gnnz/s. With the streams prefetched, plain loads of x beat AVX2 hardware gathers given the same
// prefetch (2.44–2.54 Gnnz/s against 2.63–3.18), which is why these loops are scalar: they are portable C.
// The distance made little difference between 512 and 2048 entries.
#include "lsq_sparse_kernels.h"
#include "lsq_memory_hints.h"

// The sums keep the order written (two accumulators, then their sum), on every target: no fused multiply-adds,
// so that the C and Swift loops agree to the bit.
#pragma STDC FP_CONTRACT OFF

// Entries between two calls of lsq_prefetch_entries within a line: a line much longer than the prefetch distance
// is asked for a step at a time, not all at once (a burst of a long column's lines would evict its first ones).
enum { LSQ_PREFETCH_STEP = 64 };   // even, so that each step starts on an even position of the line

// s0 += val[p]·x[idx[p]] and s1 += val[p+1]·x[idx[p+1]] over the pairs of [p, stop); returns where it stopped
// (stop, or stop − 1 when the range has an odd length).
static inline intptr_t add_pairs(const int32_t *idx, const double *val, const double *x, intptr_t p, intptr_t stop,
                                 double *s0, double *s1) {
    double a = *s0, b = *s1;
    for (; p + 1 < stop; p += 2) {
        a += val[p] * x[idx[p]];
        b += val[p + 1] * x[idx[p + 1]];
    }
    *s0 = a;
    *s1 = b;
    return p;
}

void lsq_gather_rows(const intptr_t *off, const int32_t *idx, const double *val, const double *x,
                     double *y, intptr_t lo, intptr_t hi) {
    // Where the next prefetch goes; the entries before off[lo] + ahead were asked for by the caller's previous
    // range (blocked callers) or are left to the hardware prefetcher.
    intptr_t ahead = lo < hi ? off[lo] + LSQ_PREFETCH_AHEAD : 0;
    for (intptr_t i = lo; i < hi; i++) {
        intptr_t p = off[i];
        const intptr_t end = off[i + 1];
        double s0 = 0, s1 = 0;
        // Most lines are short: one request and one run of pairs, the loop as simple as it was before steps.
        if (end - p <= LSQ_PREFETCH_STEP) {
            ahead = lsq_prefetch_entries(idx, val, ahead, end + LSQ_PREFETCH_AHEAD);
            p = add_pairs(idx, val, x, p, end, &s0, &s1);
        } else {
            while (end - p > 1) {
                const intptr_t stop = end - p > LSQ_PREFETCH_STEP ? p + LSQ_PREFETCH_STEP : end;
                ahead = lsq_prefetch_entries(idx, val, ahead, stop + LSQ_PREFETCH_AHEAD);
                p = add_pairs(idx, val, x, p, stop, &s0, &s1);
            }
        }
        if (p < end) s0 += val[p] * x[idx[p]];
        y[i - lo] = s0 + s1;
    }
}

void lsq_scatter_rows(const intptr_t *off, const int32_t *idx, const double *val, const double *x,
                      double *acc, intptr_t lo, intptr_t hi) {
    intptr_t ahead = lo < hi ? off[lo] + LSQ_PREFETCH_AHEAD : 0;
    for (intptr_t i = lo; i < hi; i++) {
        const double xi = x[i];
        if (xi == 0) continue;
        intptr_t p = off[i];
        const intptr_t end = off[i + 1];
        if (ahead < p + LSQ_PREFETCH_AHEAD) ahead = p + LSQ_PREFETCH_AHEAD;   // past skipped lines
        if (end - p <= LSQ_PREFETCH_STEP) {
            ahead = lsq_prefetch_entries(idx, val, ahead, end + LSQ_PREFETCH_AHEAD);
            for (; p < end; p++) acc[idx[p]] += val[p] * xi;
        } else {
            while (p < end) {
                const intptr_t stop = end - p > LSQ_PREFETCH_STEP ? p + LSQ_PREFETCH_STEP : end;
                ahead = lsq_prefetch_entries(idx, val, ahead, stop + LSQ_PREFETCH_AHEAD);
                for (; p < stop; p++) acc[idx[p]] += val[p] * xi;
            }
        }
    }
}
