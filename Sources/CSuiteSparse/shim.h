// CSuiteSparse/shim.h: the one C header lsq sees — CHOLMOD, SPQR's C API and OpenBLAS's CBLAS.
// Debian: libsuitesparse-dev puts these under /usr/include/suitesparse, libopenblas-dev provides cblas.h.
#ifndef LSQ_CSUITESPARSE_SHIM_H
#define LSQ_CSUITESPARSE_SHIM_H
#include <suitesparse/cholmod.h>
#include <suitesparse/SuiteSparseQR_C.h>
#include <cblas.h>

/// Number of threads OpenBLAS uses (declared by openblas_config.h, repeated here so the shim stays one header).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
