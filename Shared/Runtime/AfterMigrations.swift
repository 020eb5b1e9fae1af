import Foundation
import ServiceLifecycle
import Synchronization

/// Opens once the service's migrations are applied. Background work (relay, consumer,
/// timers) waits for it, so it never runs against a schema that is not there yet. Waiters are
/// resumed when it opens, or with `CancellationError` when their task is cancelled.
final class MigrationGate: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [UUID: CheckedContinuation<Void, any Error>] = [:]
    }

    private let state = Mutex(State())

    /// How many waiters are parked (for tests).
    var waiting: Int { state.withLock { $0.waiters.count } }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
                let now: Result<Void, any Error>? = state.withLock { state in
                    if state.isOpen { return .success(()) }
                    // Cancelled before it was registered: the handler below found nothing to end.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = waiter
                    return nil
                }
                if let now { waiter.resume(with: now) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}

/// Runs `service` once the gate opened; returns quietly if shutdown comes first.
struct AfterMigrations: Service {
    let gate: MigrationGate
    let service: any Service

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await gate.wait() }
        } catch is CancellationError {
            return
        }
        try await service.run()
    }
}
