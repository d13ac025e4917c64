// LeastSquares/CDSGDSupport: option checks, memory-budget checks and owned scratch buffers shared by CD and SGD.
import SparseTensor

/// Checks of the options that coordinate descent and SGD read, made before anything is allocated.
enum IterativeOptionCheck {
    /// `tolerance` finite and ≥ 0, `epochs` ≥ 1 when set, `memoryBudgetBytes` ≥ 0 when set.
    static func common(_ options: SolverOptions) throws(SolverError) {
        guard options.tolerance.isFinite, options.tolerance >= 0 else {
            throw .invalidOption("tolerance must be a finite number ≥ 0, got \(options.tolerance)")
        }
        if let e = options.epochs, e < 1 {
            throw .invalidOption("epochs must be ≥ 1 when given, got \(e)")
        }
        if let b = options.memoryBudgetBytes, b < 0 {
            throw .invalidOption("memoryBudgetBytes must be ≥ 0 when given, got \(b)")
        }
    }

    /// SGD's own options: `batchSize` ≥ 1, `initialLearningRate` finite and > 0 when set.
    static func stochastic(_ options: SolverOptions) throws(SolverError) {
        try common(options)
        guard options.batchSize >= 1 else {
            throw .invalidOption("batchSize must be ≥ 1 (rows per SGD step), got \(options.batchSize)")
        }
        if let eta = options.initialLearningRate, !(eta.isFinite && eta > 0) {
            throw .invalidOption("initialLearningRate must be a finite number > 0 when given, got \(eta)")
        }
    }

    /// The budget the options name, or the default one.
    static func budget(_ options: SolverOptions) -> MemoryBudget {
        options.memoryBudgetBytes.map { MemoryBudget(bytes: $0) } ?? .default
    }

    /// Throws `.sparse(.exceedsMemoryBudget)` when `bytes` do not fit.
    static func checkMemory(_ bytes: Double, for what: String, options: SolverOptions) throws(SolverError) {
        do {
            try budget(options).check(bytes, for: what)
        } catch {
            throw .sparse(error)
        }
    }
}

/// A fixed-size buffer the solver owns for the length of a solve: allocated once, freed on `deinit`.
///
/// The inner loops of CD and SGD run on raw pointers (no bounds checks in release builds, no
/// copy-on-write checks per step); this class gives those pointers a clear owner and lifetime.
final class ScratchBuffer<Element> {
    let pointer: UnsafeMutableBufferPointer<Element>

    init(repeating value: Element, count: Int) {
        pointer = UnsafeMutableBufferPointer<Element>.allocate(capacity: max(count, 0))
        pointer.initialize(repeating: value)
    }

    /// Allocates without initialising (for plain numbers that are written before they are read:
    /// no zero-fill pass over memory the caller overwrites anyway).
    init(uninitializedCount count: Int) where Element: BitwiseCopyable {
        pointer = UnsafeMutableBufferPointer<Element>.allocate(capacity: max(count, 0))
    }

    init(_ array: [Element]) {
        pointer = UnsafeMutableBufferPointer<Element>.allocate(capacity: array.count)
        _ = pointer.initialize(from: array)
    }

    var count: Int { pointer.count }
    var array: [Element] { Array(pointer) }

    deinit {
        pointer.deinitialize()
        pointer.deallocate()
    }
}

/// Soft-thresholding S(z, t) = sign(z)·max(|z| − t, 0), the proximal operator of t‖·‖₁.
/// Branch-free (max and a sign copy), since the sign of z is unpredictable in SGD and CD loops.
@inline(__always) func softThreshold(_ z: Double, _ t: Double) -> Double {
    Double(signOf: z, magnitudeOf: max(abs(z) - t, 0))
}

/// Σ vᵢ² with four accumulators: a single running sum waits on each add's latency (~4 cycles an entry),
/// four independent ones let the loads set the pace. (The order of the additions is fixed, so the
/// result is too.)
@inline(__always) func sumOfSquares(_ v: UnsafeBufferPointer<Double>) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    let count = v.count
    while i + 3 < count {
        s0 += v[i] * v[i]
        s1 += v[i + 1] * v[i + 1]
        s2 += v[i + 2] * v[i + 2]
        s3 += v[i + 3] * v[i + 3]
        i += 4
    }
    while i < count {
        s0 += v[i] * v[i]
        i += 1
    }
    return (s0 + s1) + (s2 + s3)
}

/// Progress callbacks at most every `interval` seconds (the first one always), so fast epochs do
/// not flood the caller.
struct ProgressThrottle {
    var last = -Double.infinity
    let interval: Double

    init(interval: Double = 0.05) { self.interval = interval }

    mutating func due(_ now: Double, force: Bool = false) -> Bool {
        if force || now - last >= interval { last = now; return true }
        return false
    }
}


/// Runs `first` and `second` concurrently (on two threads when the dispatcher has them) and returns
/// when both are done. The two must touch disjoint data; neither may wait for the other.
func runConcurrently(_ first: () -> Void, _ second: () -> Void) {
    Parallelism.run(2) { k in
        if k == 0 { first() } else { second() }
    }
}
