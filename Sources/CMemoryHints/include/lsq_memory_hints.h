// CMemoryHints: software prefetch for Swift, which has no prefetch intrinsic.
//
// A prefetch asks the memory system for a line ahead of the load that needs it and retires at once, so the
// processor keeps going instead of filling its reorder window behind a miss. lsq uses it only where a benchmark
// shows it pays (scripts/bench-solvers): the SGD steps, which read x at the coordinates of the next rows; the
// gathering of shuffled rows into a chunk and the offsets it reads for them; coordinate descent's gradient scatter
// over the rows that meet the support; and every loop that reads a compressed matrix front to back while it
// touches a vector at random (SpMV's kernels, coordinate descent's passes), where the hardware prefetcher alone
// fetched the matrix late (`lsq_prefetch_entries`).
#ifndef LSQ_MEMORY_HINTS_H
#define LSQ_MEMORY_HINTS_H

#include <stdint.h>

/// Prefetches the cache line holding `p` for reading, into all cache levels. Never faults.
static inline __attribute__((always_inline)) void lsq_prefetch_read(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Prefetches the cache line holding `p` with the intent to write it. Never faults.
static inline __attribute__((always_inline)) void lsq_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

/// How far ahead of the entry in use the kernels ask for a compressed matrix's values and indices
/// (8 KB of values, 4 KB of indices).
#define LSQ_PREFETCH_AHEAD 1024

/// Asks for the cache lines of val[from..<to] and idx[from..<to] (one request per 64 bytes of each) and
/// returns the first entry not asked for (≥ to). A loop that reads entry p calls it with
/// to = p_end + LSQ_PREFETCH_AHEAD, passing back what it returned. The addresses are formed as integers and
/// may lie past the arrays' ends, which a prefetch ignores.
static inline __attribute__((always_inline)) intptr_t lsq_prefetch_entries(const int32_t *idx, const double *val, intptr_t from, intptr_t to) {
    for (; from < to; from += 8) {
        __builtin_prefetch((const void *)((uintptr_t)val + (uintptr_t)from * sizeof(double)), 0, 0);
        if ((from & 8) == 0) __builtin_prefetch((const void *)((uintptr_t)idx + (uintptr_t)from * sizeof(int32_t)), 0, 0);
    }
    return from;
}

/// `lsq_prefetch_entries` for a loop that reads only the indices: one request per 64 bytes of idx[from..<to].
static inline __attribute__((always_inline)) intptr_t lsq_prefetch_indices(const int32_t *idx, intptr_t from, intptr_t to) {
    for (; from < to; from += 16) __builtin_prefetch((const void *)((uintptr_t)idx + (uintptr_t)from * sizeof(int32_t)), 0, 0);
    return from;
}

#endif
