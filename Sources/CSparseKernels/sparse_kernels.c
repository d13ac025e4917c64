// CSparseKernels: y = A·x over a range of CSR rows with AVX2 gathers (see lsq_sparse_kernels.h).
//
// Why C: Swift has no gather instruction; the scalar loop issues one load of x per nonzero and waits on it.
// Measured in one process, the two kernels alternating 40 times on the seed-shaped matrices (2 cores, A·x
// through CompressedStorage.gather, three processes each): 200k × 100k best 1164–1662 against 1228–1381
// Mnnz/s, medians 1111–1300 against 975–1230; 1M × 500k (x does not fit a core's L2) best 1233–1428 against
// 901–1061, medians 791–1231 against 748–891.
#include "lsq_sparse_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

int lsq_has_vector_gather(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

__attribute__((target("avx2,fma")))
void lsq_gather_rows(const intptr_t *off, const int32_t *idx, const double *val, const double *x,
                     double *y, intptr_t lo, intptr_t hi) {
    for (intptr_t i = lo; i < hi; i++) {
        intptr_t p = off[i];
        const intptr_t end = off[i + 1];
        __m256d acc = _mm256_setzero_pd();
        for (; p + 3 < end; p += 4) {
            const __m128i k = _mm_loadu_si128((const __m128i *)(idx + p));
            acc = _mm256_fmadd_pd(_mm256_loadu_pd(val + p), _mm256_i32gather_pd(x, k, 8), acc);
        }
        const __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(acc), _mm256_extractf128_pd(acc, 1));
        double s = _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
        for (; p < end; p++) s += val[p] * x[idx[p]];
        y[i - lo] = s;
    }
}

#else

int lsq_has_vector_gather(void) { return 0; }

void lsq_gather_rows(const intptr_t *off, const int32_t *idx, const double *val, const double *x,
                     double *y, intptr_t lo, intptr_t hi) {
    for (intptr_t i = lo; i < hi; i++) {
        double s = 0;
        for (intptr_t p = off[i]; p < off[i + 1]; p++) s += val[p] * x[idx[p]];
        y[i - lo] = s;
    }
}

#endif
