import ServiceLifecycle
import Synchronization

/// Opens once the service's migrations are applied. Background work (relay, consumer,
/// timers) waits for it, so it never runs against a schema that is not there yet.
final class MigrationGate: Sendable {
    private let isOpen = Atomic<Bool>(false)

    func open() { isOpen.store(true, ordering: .releasing) }

    func wait() async throws {
        while !isOpen.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(20)) }
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
