import Synchronization

/// The deliveries waiting on one consumer lane. The lane takes everything that accumulated
/// (up to a limit) at once, so a busy lane handles deliveries in batches and an idle one
/// handles each as it comes.
final class DeliveryBuffer: Sendable {
    private struct State {
        var items: [AMQPDelivery] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false

        /// Removes and returns up to `limit` of the oldest items.
        mutating func take(upTo limit: Int) -> [AMQPDelivery] {
            let count = min(limit, items.count)
            defer { items.removeFirst(count) }
            return Array(items.prefix(count))
        }
    }

    private let state = Mutex(State())

    func append(_ delivery: AMQPDelivery) {
        let waiter = state.withLock { state in
            state.items.append(delivery)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// No more deliveries: `take` returns what is left, then nil.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Up to `limit` deliveries that are waiting now, without waiting for any.
    func takeAvailable(limit: Int) -> [AMQPDelivery] {
        state.withLock { $0.take(upTo: limit) }
    }

    /// Waits for at least one delivery and returns up to `limit`; nil once finished and empty
    /// (or when the waiting task is cancelled).
    func take(limit: Int) async -> [AMQPDelivery]? {
        while !Task.isCancelled {
            let batch = state.withLock { state -> [AMQPDelivery]? in
                if !state.items.isEmpty { return state.take(upTo: limit) }
                return state.finished ? [] : nil
            }
            if let batch { return batch.isEmpty ? nil : batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    // Cancellation may land between the loop's check and this point, when
                    // `onCancel` finds no waiter to resume: look again under the lock.
                    let ready = state.withLock { state in
                        if !state.items.isEmpty || state.finished || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
        return nil
    }
}
