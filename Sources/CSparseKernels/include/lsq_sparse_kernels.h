// CSparseKernels: the two inner loops of SpMV over compressed rows (or columns), with the matrix's streams
// prefetched in software. See sparse_kernels.c for why and for the measurements.
#ifndef LSQ_SPARSE_KERNELS_H
#define LSQ_SPARSE_KERNELS_H

#include <stdint.h>

/// y[i - lo] = Σ_{p = off[i]}^{off[i+1]-1} val[p]·x[idx[p]] for lo ≤ i < hi (a "gather": CSR·x, CSCᵀ·x).
/// Each line is summed in two accumulators, even and odd positions, then added — the order of Swift's
/// `sparseDot`, and without contracting to fused multiply-adds, so the two give the same bits.
/// `off` has the width of a pointer (Swift's Int).
void lsq_gather_rows(const intptr_t *off, const int32_t *idx, const double *val, const double *x,
                     double *y, intptr_t lo, intptr_t hi);

/// acc[idx[p]] += val[p]·x[i] for every entry p of every line lo ≤ i < hi whose x[i] ≠ 0, lines in order
/// (a "scatter": CSRᵀ·x without forming the transpose, CSC·x).
void lsq_scatter_rows(const intptr_t *off, const int32_t *idx, const double *val, const double *x,
                      double *acc, intptr_t lo, intptr_t hi);

#endif
