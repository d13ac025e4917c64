// SolverService/Jobs/AdmissionGate: at most a fixed number of holders at once; the others wait their turn.

/// A counting semaphore for async code: `enter()` returns at once while a permit is free, else suspends
/// until a holder calls `leave()`; waiters are let in first come, first served.
///
/// The service passes every submission's parse through one (`ServiceAPI.parseGate`, as many permits as solver
/// workers). A parse may take up to a job's memory budget; without the gate, every connection's upload could
/// be parsed at once on the blocking-I/O threads, and their sum was bounded by nothing but the connection
/// limit. Waiting uploads hold only their bodies (spooled to disk above `HTTPLimits.memoryBodyBytes`).
actor AdmissionGate {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var head = 0

    /// A gate with `permits` permits (at least one).
    init(permits: Int) {
        free = max(1, permits)
    }

    /// Takes a permit, waiting for one if none is free.
    func enter() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Returns a permit: the longest waiter gets it, else it is free again.
    func leave() {
        if head < waiting.count {
            let next = waiting[head]
            head += 1
            if head == waiting.count {
                waiting.removeAll(keepingCapacity: true)
                head = 0
            }
            next.resume()
        } else {
            free += 1
        }
    }

    /// Holders waiting for a permit now.
    var waiters: Int { waiting.count - head }
}
