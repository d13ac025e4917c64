// CSparseKernels: the row-by-vector gather of SpMV with hardware gathers, where the processor has them.
#ifndef LSQ_SPARSE_KERNELS_H
#define LSQ_SPARSE_KERNELS_H

#include <stdint.h>

/// Whether `lsq_gather_rows` may be called: an x86-64 processor with AVX2 and FMA (checked at run time).
int lsq_has_vector_gather(void);

/// y[i - lo] = Σ_{p = off[i]}^{off[i+1]-1} val[p]·x[idx[p]] for lo ≤ i < hi, with 4-wide hardware gathers of x
/// (AVX2 vgatherdpd) and fused multiply-adds. On x86-64 it must only be called when `lsq_has_vector_gather()`
/// returned nonzero; elsewhere it is a plain loop. `off` has the width of a pointer (Swift's Int).
void lsq_gather_rows(const intptr_t *off, const int32_t *idx, const double *val, const double *x,
                     double *y, intptr_t lo, intptr_t hi);

#endif
