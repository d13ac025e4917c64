// scripts/spmv_reference.c: y = A·x in plain C on the matrix bench-core measures, as a yardstick for lsq's kernel.
//
// The question it answers: is lsq's A·x short of the memory-bandwidth bound because of Swift, or because of the
// machine? Four kernels, each on one and on two threads (rows split into nnz-balanced halves, as lsq does):
//   scalar   — the loop scipy runs: two accumulators, one load of x per nonzero;
//   prefetch — the same loop asking for the values and indices 1024 entries ahead (lsq's kernel, written again
//              here: Sources/CSparseKernels);
//   avx2     — 4-wide hardware gathers of x (vgatherdpd), two vector accumulators;
//   avx512   — 8-wide hardware gathers with a masked tail.
// The vector kernels run only where the processor has the instructions (checked at run time).
//
// Input: the raw CSR arrays scripts/bench_peers.py writes with `core … --dump DIR` (indptr int64, indices int32,
// data float64). Output: one JSON object, for each kernel the median of 15 runs (after a warm-up; the kernels
// take turns, round by round) in nonzeros per second, the statistic LsqBench reports for lsq.
// Build: cc -O3 -pthread scripts/spmv_reference.c -o spmv_reference (bench-core does it).
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    long m, n, nnz;
    const int64_t *off;
    const int32_t *idx;
    const double *val;
} csr;

typedef void (*kernel)(const csr *, const double *, double *, long, long);

static void *read_file(const char *dir, const char *name, size_t bytes) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "spmv_reference: cannot open %s\n", path); exit(1); }
    void *p = malloc(bytes ? bytes : 1);
    if (!p || fread(p, 1, bytes, f) != bytes) { fprintf(stderr, "spmv_reference: %s is shorter than %zu bytes\n", path, bytes); exit(1); }
    fclose(f);
    return p;
}

static void scalar(const csr *a, const double *x, double *y, long lo, long hi) {
    for (long i = lo; i < hi; i++) {
        double s0 = 0, s1 = 0;
        long p = a->off[i], e = a->off[i + 1];
        for (; p + 1 < e; p += 2) {
            s0 += a->val[p] * x[a->idx[p]];
            s1 += a->val[p + 1] * x[a->idx[p + 1]];
        }
        if (p < e) s0 += a->val[p] * x[a->idx[p]];
        y[i] = s0 + s1;
    }
}

static void prefetch(const csr *a, const double *x, double *y, long lo, long hi) {
    enum { ahead = 1024 };
    long next = lo < hi ? a->off[lo] + ahead : 0;   // the first entry not yet asked for
    for (long i = lo; i < hi; i++) {
        double s0 = 0, s1 = 0;
        long p = a->off[i], e = a->off[i + 1];
        for (; next < e + ahead; next += 8) {          // one request per 64 bytes of values, and of indices
            __builtin_prefetch((const void *)((uintptr_t)a->val + 8 * (uintptr_t)next), 0, 0);
            if ((next & 8) == 0) __builtin_prefetch((const void *)((uintptr_t)a->idx + 4 * (uintptr_t)next), 0, 0);
        }
        for (; p + 1 < e; p += 2) {
            s0 += a->val[p] * x[a->idx[p]];
            s1 += a->val[p + 1] * x[a->idx[p + 1]];
        }
        if (p < e) s0 += a->val[p] * x[a->idx[p]];
        y[i] = s0 + s1;
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void avx2(const csr *a, const double *x, double *y, long lo, long hi) {
    for (long i = lo; i < hi; i++) {
        __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
        long p = a->off[i], e = a->off[i + 1];
        for (; p + 7 < e; p += 8) {
            __m128i i0 = _mm_loadu_si128((const __m128i *)(a->idx + p)), i1 = _mm_loadu_si128((const __m128i *)(a->idx + p + 4));
            s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a->val + p), _mm256_i32gather_pd(x, i0, 8), s0);
            s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a->val + p + 4), _mm256_i32gather_pd(x, i1, 8), s1);
        }
        s0 = _mm256_add_pd(s0, s1);
        __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s0), _mm256_extractf128_pd(s0, 1));
        double s = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
        for (; p < e; p++) s += a->val[p] * x[a->idx[p]];
        y[i] = s;
    }
}

__attribute__((target("avx512f,avx512vl"))) static void avx512(const csr *a, const double *x, double *y, long lo, long hi) {
    for (long i = lo; i < hi; i++) {
        __m512d s = _mm512_setzero_pd();
        long p = a->off[i], e = a->off[i + 1];
        for (; p + 7 < e; p += 8) {
            __m256i k = _mm256_loadu_si256((const __m256i *)(a->idx + p));
            s = _mm512_fmadd_pd(_mm512_loadu_pd(a->val + p), _mm512_i32gather_pd(k, x, 8), s);
        }
        if (p < e) {
            __mmask8 mask = (__mmask8)((1u << (e - p)) - 1);
            __m256i k = _mm256_maskz_loadu_epi32(mask, a->idx + p);
            s = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(mask, a->val + p),
                                _mm512_mask_i32gather_pd(_mm512_setzero_pd(), mask, k, x, 8), s);
        }
        y[i] = _mm512_reduce_add_pd(s);
    }
}
#endif

typedef struct {
    const csr *a;
    const double *x;
    double *y;
    long lo, hi;
    kernel k;
} job;

static void *run_job(void *arg) {
    job *j = arg;
    j->k(j->a, j->x, j->y, j->lo, j->hi);
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/// The first row at or after nonzero `target` (the nnz-balanced split).
static long split(const csr *a, long target) {
    long lo = 0, hi = a->m;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (a->off[mid] < target) lo = mid + 1; else hi = mid;
    }
    return lo;
}

// One run of kernel k on 1 or 2 threads (rows split into nnz-balanced halves), in seconds.
static double timed_run(const csr *a, const double *x, double *y, kernel k, int threads, long middle) {
    double t = now();
    if (threads == 1) {
        k(a, x, y, 0, a->m);
    } else {
        job second = {a, x, y, middle, a->m, k};
        pthread_t helper;
        pthread_create(&helper, NULL, run_job, &second);
        k(a, x, y, 0, middle);
        pthread_join(helper, NULL);
    }
    return now() - t;
}

static int by_value(const void *p, const void *q) {
    double a = *(const double *)p, b = *(const double *)q;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: spmv_reference DIR ROWS COLUMNS NNZ\n"); return 2; }
    csr a = {atol(argv[2]), atol(argv[3]), atol(argv[4]), NULL, NULL, NULL};
    a.off = read_file(argv[1], "indptr.i64", 8 * (size_t)(a.m + 1));
    a.idx = read_file(argv[1], "indices.i32", 4 * (size_t)a.nnz);
    a.val = read_file(argv[1], "data.f64", 8 * (size_t)a.nnz);
    if (a.off[0] != 0 || a.off[a.m] != a.nnz) {
        fprintf(stderr, "spmv_reference: indptr runs from %lld to %lld, expected 0 to %ld\n", (long long)a.off[0], (long long)a.off[a.m], a.nnz);
        return 1;
    }
    double *x = malloc(8 * (size_t)(a.n ? a.n : 1)), *y = malloc(8 * (size_t)(a.m ? a.m : 1));
    for (long j = 0; j < a.n; j++) x[j] = 1.0 / (double)(j + 1);
    struct { const char *name; kernel k; int ok; } kernels[] = {
        {"scalar", scalar, 1},
        {"prefetch", prefetch, 1},
#if defined(__x86_64__)
        {"avx2", avx2, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")},
        {"avx512", avx512, __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")},
#endif
    };
#if defined(__x86_64__)
    __builtin_cpu_init();
#endif
    // Rounds: every kernel on 1 and 2 threads once per round, so that a change in the host's load falls on
    // all of them alike; round 0 is a warm-up, then the median of 15 (the statistic LsqBench reports).
    enum { kinds = sizeof kernels / sizeof kernels[0], rounds = 16 };
    static double times[kinds][2][rounds];
    long middle = split(&a, a.nnz / 2);
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < kinds; i++)
            for (int threads = 1; threads <= 2 && kernels[i].ok; threads++)
                times[i][threads - 1][r] = timed_run(&a, x, y, kernels[i].k, threads, middle);
    printf("{");
    const char *sep = "";
    for (size_t i = 0; i < kinds; i++) {
        if (!kernels[i].ok) continue;
        for (int threads = 1; threads <= 2; threads++) {
            double *t = times[i][threads - 1] + 1;
            qsort(t, rounds - 1, sizeof *t, by_value);
            printf("%s\"%s_%d\": %.6g", sep, kernels[i].name, threads, a.nnz / t[(rounds - 1) / 2]);
            sep = ", ";
        }
    }
    printf("}\n");
    return 0;
}
