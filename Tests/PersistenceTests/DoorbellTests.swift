import AftercarePersistence
import AftercareTestSupport
import Foundation
import Synchronization
import Testing

@Suite("Doorbell", .timeLimit(.minutes(3)))
struct DoorbellTests {
    @Test("a ring before the wait is remembered once")
    func ringBeforeWait() async {
        let doorbell = Doorbell()
        doorbell.ring()
        doorbell.ring()
        let start = ContinuousClock.now
        await doorbell.wait(upTo: .seconds(30))
        #expect(ContinuousClock.now - start < .seconds(5), "the remembered ring ended the wait")
        // The second ring was folded into the first: this wait runs to its timeout.
        let second = ContinuousClock.now
        await doorbell.wait(upTo: .milliseconds(200))
        #expect(ContinuousClock.now - second >= .milliseconds(200))
    }

    @Test("a ring during the wait ends it")
    func ringDuringWait() async {
        let doorbell = Doorbell()
        let waiter = Task { await doorbell.wait(upTo: .seconds(60)) }
        try? await Task.sleep(for: .milliseconds(100))
        doorbell.ring()
        #expect(await finishes(waiter, within: .seconds(10)))
    }

    // The shape of the shutdown hang: many short waits racing their own timers, and waits
    // whose task is already cancelled. Every one must return; a lost wake-up would hold the
    // task for ever, which `finishes` turns into a failure instead of a hung run.
    @Test("short and cancelled waits always return")
    func noLostWakeUps() async {
        // Spinning threads make the OS preempt the pool's threads at random points, and
        // many loops at once keep the pool busy, so child tasks start late.
        let spinning = Atomic<Bool>(true)
        let spinners = (0..<4).map { _ in Thread { while spinning.load(ordering: .relaxed) {} } }
        for spinner in spinners { spinner.start() }
        defer { spinning.store(false, ordering: .relaxed) }
        let short = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let doorbell = Doorbell()
                        for round in 0..<400 { await doorbell.wait(upTo: .microseconds(round % 3)) }
                    }
                }
            }
        }
        #expect(await finishes(short, within: .seconds(30)))

        let doorbell = Doorbell()

        let cancelled = Task {
            for _ in 0..<500 {
                let inner = Task { await doorbell.wait(upTo: .seconds(60)) }
                inner.cancel()
                await inner.value
            }
        }
        #expect(await finishes(cancelled, within: .seconds(30)))
    }
}
