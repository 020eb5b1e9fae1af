import Synchronization

/// A wake-up hint for a polling loop: `ring()` any number of times, `wait(upTo:)` returns on
/// the first ring or after the timeout, whichever is sooner. Rings while nobody waits are
/// remembered once, so a ring is never lost between two waits.
public final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    public func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.rung = true
            return nil
        }
        waiter?.resume()
    }

    public func wait(upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let alreadyRung = self.state.withLock { state in
                        if state.rung {
                            state.rung = false
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if alreadyRung { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.wakeWaiterOnly()
            }
            await group.next()
            group.cancelAll()
            self.wakeWaiterOnly()
        }
    }

    /// Ends a pending wait without leaving a remembered ring behind.
    private func wakeWaiterOnly() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
