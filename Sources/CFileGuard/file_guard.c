// CFileGuard: the SIGBUS handler behind MappedFile (SparseTensor/FileBytes.swift).
//
// Touching a page of a file mapping past the file's current end raises SIGBUS (si_code BUS_ADRERR): the file was
// truncated by another process after lsq mapped it. While the mapping is registered here, the handler maps a
// zero-filled page over the faulting one and counts it; the reader carries on over zeros and MappedFile reports the
// truncation. Any other SIGBUS gets the disposition lsq found back: a fault then happens again when the handler
// returns, and a signal sent by a process is raised again, so either ends the process as it would have.
// Only async-signal-safe calls (mmap, sigaction, raise) run in the handler.
#include "lsq_file_guard.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 64

static _Atomic(uintptr_t) guard_start[SLOTS];
static _Atomic(uintptr_t) guard_end[SLOTS];
static _Atomic(long) guard_faults[SLOTS];
static uintptr_t page_size;
static struct sigaction previous;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void on_sigbus(int signal_number, siginfo_t *info, void *context) {
    (void)signal_number;
    (void)context;
    if (info->si_code == BUS_ADRERR) {
        uintptr_t address = (uintptr_t)info->si_addr;
        for (int k = 0; k < SLOTS; k++) {
            uintptr_t start = atomic_load(&guard_start[k]), end = atomic_load(&guard_end[k]);
            if (start != 0 && address >= start && address < end) {
                void *page = (void *)(address & ~(page_size - 1));
                if (mmap(page, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
                    atomic_fetch_add(&guard_faults[k], 1);
                    return;
                }
            }
        }
    }
    sigaction(SIGBUS, &previous, NULL);
    if (info->si_code <= 0) raise(SIGBUS);  // sent by kill(2) or the like: deliver it again, as it was
}

static void install(void) {
    page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous);
}

int lsq_guard_register(const void *start, size_t length) {
    pthread_once(&installed, install);
    for (int k = 0; k < SLOTS; k++) {
        uintptr_t expected = 0;
        // Claim a free slot (end 0) by its end, then publish its start, which the handler tests first.
        if (atomic_compare_exchange_strong(&guard_end[k], &expected, (uintptr_t)start + length)) {
            atomic_store(&guard_faults[k], 0);
            atomic_store(&guard_start[k], (uintptr_t)start);
            return k;
        }
    }
    return -1;
}

long lsq_guard_faults_in(int slot) {
    return (slot < 0 || slot >= SLOTS) ? 0 : atomic_load(&guard_faults[slot]);
}

void lsq_guard_unregister(int slot) {
    if (slot < 0 || slot >= SLOTS) return;
    atomic_store(&guard_start[slot], 0);
    atomic_store(&guard_end[slot], 0);
}
