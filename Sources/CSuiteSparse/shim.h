// CSuiteSparse/shim.h: the one C header lsq sees — CHOLMOD, SPQR's C API and OpenBLAS's CBLAS.
// Debian: libsuitesparse-dev puts these under /usr/include/suitesparse, libopenblas-dev provides cblas.h.
#ifndef LSQ_CSUITESPARSE_SHIM_H
#define LSQ_CSUITESPARSE_SHIM_H
#include <suitesparse/cholmod.h>
#include <suitesparse/SuiteSparseQR_C.h>
#include <cblas.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/// Number of threads OpenBLAS uses (declared by openblas_config.h, repeated here so the shim stays one header).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

// ---------------------------------------------------------------------------------------------------------------
// Truncation guard for memory-mapped input files (used by SparseTensor's MappedFile only).
//
// Reading a page of a mapped file that another process has truncated meanwhile raises SIGBUS, which would kill
// lsq. While a mapping is registered here, a SIGBUS inside it is answered by mapping a zero-filled page over the
// faulting one and counting the fault; the reader then sees NUL bytes (a parse error at worst) and MappedFile
// reports the truncation instead. A SIGBUS anywhere else gets the previous disposition back and happens again,
// so it ends the process as it would have. Only async-signal-safe calls (mmap, sigaction) run in the handler.
#define LSQ_GUARD_SLOTS 64
struct lsq_guard_state {
    _Atomic(uintptr_t) start[LSQ_GUARD_SLOTS];
    _Atomic(uintptr_t) end[LSQ_GUARD_SLOTS];
    _Atomic(long) faults[LSQ_GUARD_SLOTS];
    _Atomic(uintptr_t) page_size;
    struct sigaction previous;
    atomic_flag installed;
};

/// The guard's state: a function-local static, since Swift emits the header's functions but not its globals
/// (everything here is used from one Swift file, FileBytes.swift, so there is one copy).
static inline struct lsq_guard_state *lsq_guard(void) {
    static struct lsq_guard_state state = { .installed = ATOMIC_FLAG_INIT };
    return &state;
}

static void lsq_guard_sigbus(int signal_number, siginfo_t *info, void *context) {
    (void)signal_number; (void)context;
    struct lsq_guard_state *g = lsq_guard();
    uintptr_t address = (uintptr_t)info->si_addr;
    uintptr_t page = atomic_load(&g->page_size);
    for (int k = 0; k < LSQ_GUARD_SLOTS; k++) {
        uintptr_t start = atomic_load(&g->start[k]), end = atomic_load(&g->end[k]);
        if (start != 0 && address >= start && address < end) {
            void *p = (void *)(address & ~(page - 1));
            if (mmap(p, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
                atomic_fetch_add(&g->faults[k], 1);
                return;
            }
        }
    }
    sigaction(SIGBUS, &g->previous, NULL);
}

/// Registers [start, start + length) (a file mapping); returns its slot, or -1 when every slot is taken (the
/// mapping is then read unguarded). Installs the handler on first use.
static inline int lsq_guard_register(const void *start, size_t length) {
    struct lsq_guard_state *g = lsq_guard();
    if (!atomic_flag_test_and_set(&g->installed)) {
        atomic_store(&g->page_size, (uintptr_t)sysconf(_SC_PAGESIZE));
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = lsq_guard_sigbus;
        action.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        sigaction(SIGBUS, &action, &g->previous);
    }
    for (int k = 0; k < LSQ_GUARD_SLOTS; k++) {
        uintptr_t expected = 0;
        // Claim a free slot (end 0) by its end, then publish its start.
        if (atomic_compare_exchange_strong(&g->end[k], &expected, (uintptr_t)start + length)) {
            atomic_store(&g->faults[k], 0);
            atomic_store(&g->start[k], (uintptr_t)start);
            return k;
        }
    }
    return -1;
}

/// The number of pages of slot `k` that were read after the file had been truncated (0 for slot -1).
static inline long lsq_guard_faults_in(int k) {
    return (k < 0 || k >= LSQ_GUARD_SLOTS) ? 0 : atomic_load(&lsq_guard()->faults[k]);
}

/// Frees slot `k` (before the mapping is unmapped).
static inline void lsq_guard_unregister(int k) {
    if (k < 0 || k >= LSQ_GUARD_SLOTS) return;
    atomic_store(&lsq_guard()->start[k], 0);
    atomic_store(&lsq_guard()->end[k], 0);
}
#endif
