// SolverService/HTTP/ConnectionRegistry: open connections, their deadlines, and the reaper that enforces them.
import Foundation
import Synchronization

/// What a connection is doing, for timeouts and graceful shutdown.
enum ConnectionPhase: UInt8, Sendable {
    /// Waiting for the first byte of a request (keep-alive idle).
    case idle
    /// Receiving a head or a body.
    case receiving
    /// The handler runs; no read deadline.
    case handling
    /// Sending a response.
    case writing
}

/// A connection's deadline, read by the reaper and set by the connection (lock-free).
final class ConnectionClock: Sendable {
    private let deadlineNanos = Atomic<UInt64>(0)
    private let phaseRaw = Atomic<UInt8>(ConnectionPhase.idle.rawValue)
    private let expired = Atomic<Bool>(false)

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// The longest timeout the clock keeps (a year): longer ones, infinity included, are clamped to it, so the
    /// deadline always fits its UInt64 nanoseconds. NaN counts as 0.
    static let longestTimeout = 365 * 86_400.0

    /// Sets the deadline `seconds` from now (nil clears it) and the phase.
    func set(_ phase: ConnectionPhase, timeout seconds: Double?) {
        phaseRaw.store(phase.rawValue, ordering: .relaxed)
        if let seconds {
            let clamped = seconds > 0 ? min(seconds, Self.longestTimeout) : 0
            deadlineNanos.store(Self.now() &+ UInt64(clamped * 1e9), ordering: .relaxed)
        } else {
            deadlineNanos.store(0, ordering: .relaxed)
        }
    }

    var phase: ConnectionPhase { ConnectionPhase(rawValue: phaseRaw.load(ordering: .relaxed)) ?? .idle }

    /// The reaper cancelled the connection because its deadline passed.
    var timedOut: Bool { expired.load(ordering: .relaxed) }

    /// Marks the clock expired when its deadline is before `now`; true when it just expired.
    fileprivate func expire(ifBefore now: UInt64) -> Bool {
        let d = deadlineNanos.load(ordering: .relaxed)
        guard d != 0, d <= now else { return false }
        return !expired.exchange(true, ordering: .relaxed)
    }
}

/// The set of open connections: admission against the connection limit, deadline enforcement
/// (one timer for all connections instead of one per read), and cancellation at shutdown.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        let clock: ConnectionClock
        var task: Task<Void, Never>?
    }

    private struct State {
        var nextID = 0
        var entries: [Int: Entry] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    let maxConnections: Int

    init(maxConnections: Int) { self.maxConnections = maxConnections }

    var count: Int { state.withLock { $0.entries.count } }

    /// Admits a connection; nil when the limit is reached or the server is stopping.
    func admit(_ clock: ConnectionClock) -> Int? {
        state.withLock { s in
            guard !s.closed, s.entries.count < maxConnections else { return nil }
            s.nextID += 1
            s.entries[s.nextID] = Entry(clock: clock, task: nil)
            return s.nextID
        }
    }

    /// Records the task serving connection `id` (if it has not already finished).
    func attach(_ id: Int, task: Task<Void, Never>) {
        state.withLock { s in
            if s.entries[id] != nil { s.entries[id]?.task = task }
        }
    }

    func remove(_ id: Int) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    /// Cancels every connection whose deadline has passed.
    func reap() {
        let now = ConnectionClock.now()
        let expired: [Task<Void, Never>] = state.withLock { s in
            s.entries.values.compactMap { $0.clock.expire(ifBefore: now) ? $0.task : nil }
        }
        for task in expired { task.cancel() }
    }

    /// Stops admitting; cancels connections in `phases` (all when nil).
    func cancel(phases: Set<ConnectionPhase>? = nil, close: Bool = true) {
        let tasks: [Task<Void, Never>] = state.withLock { s in
            if close { s.closed = true }
            return s.entries.values.compactMap { e in
                (phases == nil || phases!.contains(e.clock.phase)) ? e.task : nil
            }
        }
        for task in tasks { task.cancel() }
    }
}

extension ConnectionRegistry {
    /// The server is stopping: responses close their connection.
    var isClosed: Bool { state.withLock { $0.closed } }
}
