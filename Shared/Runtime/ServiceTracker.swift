import ServiceLifecycle
import Synchronization

/// Which of a process's services are still running, so that a shutdown which stalls can say
/// where (the shutdown watchdog logs the list before it ends the process).
public enum ServiceTracker {
    private static let running = Mutex<[String: Int]>([:])

    /// The services started and not yet returned, by name.
    public static var unfinished: [String] {
        running.withLock { $0.filter { $0.value > 0 }.keys.sorted() }
    }

    static func started(_ name: String) { running.withLock { $0[name, default: 0] += 1 } }
    static func finished(_ name: String) { running.withLock { $0[name, default: 1] -= 1 } }
}

/// Runs `service` and records in `ServiceTracker` while it does.
public struct Tracked: Service {
    let name: String
    let service: any Service

    public init(name: String, service: any Service) {
        self.name = name
        self.service = service
    }

    public func run() async throws {
        ServiceTracker.started(name)
        defer { ServiceTracker.finished(name) }
        try await service.run()
    }
}
