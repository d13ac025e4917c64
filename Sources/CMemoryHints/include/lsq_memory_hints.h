// CMemoryHints: software prefetch for Swift, which has no prefetch intrinsic.
//
// A prefetch asks the memory system for a line ahead of the load that needs it and retires at once, so the
// processor keeps going instead of filling its reorder window behind a miss. lsq uses it only where a benchmark
// shows it pays (scripts/bench-solvers): the SGD steps, which read x at the coordinates of the next rows; the
// gathering of shuffled rows into a chunk and the offsets it reads for them; coordinate descent's gradient scatter
// over the rows that meet the support.
#ifndef LSQ_MEMORY_HINTS_H
#define LSQ_MEMORY_HINTS_H

/// Prefetches the cache line holding `p` for reading, into all cache levels. Never faults.
static inline __attribute__((always_inline)) void lsq_prefetch_read(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Prefetches the cache line holding `p` with the intent to write it. Never faults.
static inline __attribute__((always_inline)) void lsq_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

#endif
