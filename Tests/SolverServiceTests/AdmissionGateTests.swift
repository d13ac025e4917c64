// Tests of the gate that bounds concurrent submission parses: permits, waiting, first come first served.
import Testing
@testable import SolverService

@Suite("Admission gate")
struct AdmissionGateTests {
    /// Waits (yielding, up to ~10 s) until `gate` has `count` waiters; false if it never does.
    private func waitForWaiters(_ gate: AdmissionGate, _ count: Int) async -> Bool {
        for _ in 0..<10_000 {
            if await gate.waiters == count { return true }
            try? await Task.sleep(nanoseconds: 1_000_000)
        }
        return false
    }

    @Test("Two permits: two holders enter at once, a third waits until one leaves; waiters enter in arrival order")
    func permitsAndOrder() async {
        let gate = AdmissionGate(permits: 2)
        await gate.enter()
        await gate.enter()
        #expect(await gate.waiters == 0)
        let order = Log()
        let third = Task { await gate.enter(); await order.append(3) }
        #expect(await waitForWaiters(gate, 1))
        let fourth = Task { await gate.enter(); await order.append(4) }
        #expect(await waitForWaiters(gate, 2))
        #expect(await order.entries.isEmpty, "a holder entered without a free permit")
        await gate.leave()
        await third.value
        #expect(await order.entries == [3])
        #expect(await gate.waiters == 1)
        await gate.leave()
        await fourth.value
        #expect(await order.entries == [3, 4])
        // Both permits back (the third's and the fourth's): two enter at once again, a third waits.
        await gate.leave()
        await gate.leave()
        await gate.enter()
        await gate.enter()
        #expect(await gate.waiters == 0)
        let fifth = Task { await gate.enter() }
        #expect(await waitForWaiters(gate, 1))
        await gate.leave()
        await fifth.value
    }

    @Test("At least one permit, whatever is asked")
    func atLeastOnePermit() async {
        let gate = AdmissionGate(permits: 0)
        await gate.enter()
        #expect(await gate.waiters == 0)
    }

    private actor Log {
        var entries: [Int] = []
        func append(_ k: Int) { entries.append(k) }
    }
}
