// CMemoryHints has only inline functions (include/lsq_memory_hints.h); SwiftPM needs one source file per C target.
#include "lsq_memory_hints.h"
