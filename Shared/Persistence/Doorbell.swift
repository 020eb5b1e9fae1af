import Synchronization

/// A wake-up hint for one polling loop: `ring()` any number of times, `wait(upTo:)` returns
/// on the first ring, after the timeout or when the waiting task is cancelled, whichever is
/// sooner. Rings while nobody waits are remembered once, so a ring is never lost between two
/// waits.
///
/// Every way of ending a wait goes through the same lock and the same slot, so it does not
/// matter in which order they land: an earlier version raced its timer against the
/// installation of the waiter and, under load, could miss both and wait for ever (a relay or
/// job worker that never stopped at shutdown).
public final class Doorbell: Sendable {
    private enum Slot {
        case empty
        /// A wait has begun but has not parked its continuation yet.
        case pending(UInt64)
        case waiting(UInt64, CheckedContinuation<Void, Never>)
        /// The wait was ended (ring, timeout, cancel) and has not cleared the slot yet.
        case woken(UInt64)
    }

    private struct State {
        var rung = false
        var slot = Slot.empty
        var nextWait: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state.slot {
            case .pending(let id):
                state.slot = .woken(id)
            case .waiting(let id, let continuation):
                state.slot = .woken(id)
                return continuation
            case .empty, .woken:
                state.rung = true  // nobody is listening for it now: the next wait takes it
            }
            return nil
        }
        waiter?.resume()
    }

    /// One loop waits at a time; a second concurrent waiter is not supported.
    public func wait(upTo timeout: Duration) async {
        let id = state.withLock { state -> UInt64? in
            if state.rung {
                state.rung = false
                return nil
            }
            state.nextWait += 1
            state.slot = .pending(state.nextWait)
            return state.nextWait
        }
        guard let id else { return }
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            end(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let endedAlready = state.withLock { state -> Bool in
                    guard case .pending(id) = state.slot else { return true }
                    state.slot = .waiting(id, continuation)
                    return false
                }
                if endedAlready { continuation.resume() }
            }
        } onCancel: {
            end(id)
        }
        timer.cancel()
        state.withLock { state in
            if case .woken(id) = state.slot { state.slot = .empty }
        }
    }

    /// Ends wait `id` if it is still the current one (timeout or cancellation).
    private func end(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state.slot {
            case .pending(id):
                state.slot = .woken(id)
            case .waiting(id, let continuation):
                state.slot = .woken(id)
                return continuation
            default:
                break
            }
            return nil
        }
        waiter?.resume()
    }
}
