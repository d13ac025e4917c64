// CFileGuard: keeps a read of a memory-mapped file that another process truncates from killing lsq (SIGBUS).
#ifndef LSQ_FILE_GUARD_H
#define LSQ_FILE_GUARD_H
#include <stddef.h>

/// Registers [start, start + length), a read-only file mapping; returns its slot, or -1 when all 64 slots are taken
/// (the mapping is then read unguarded). Installs the SIGBUS handler on first use.
int lsq_guard_register(const void *start, size_t length);

/// Pages of slot `slot` that were read after the file had been truncated, and were replaced by zeros (0 for -1).
long lsq_guard_faults_in(int slot);

/// Frees slot `slot` (call before unmapping).
void lsq_guard_unregister(int slot);
#endif
