import Logging
import PostgresNIO

/// One dependency that must answer before the service takes traffic.
public struct ReadinessCheck: Sendable {
    public let name: String
    let probe: @Sendable () async -> Bool

    public init(name: String, probe: @escaping @Sendable () async -> Bool) {
        self.name = name
        self.probe = probe
    }

    /// The database answers a trivial query within two seconds.
    public static func database(_ client: PostgresClient, logger: Logger) -> Self {
        ReadinessCheck(name: "database") {
            await withTimeout(.seconds(2)) {
                _ = try await client.query("SELECT 1", logger: logger)
            }
        }
    }

    /// A broker connection is open (the session reconnects in the background if not).
    public static func broker(isConnected: @escaping @Sendable () -> Bool) -> Self {
        ReadinessCheck(name: "broker") { isConnected() }
    }
}

/// True when `body` finished without error before the timeout.
func withTimeout(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            do {
                try await body()
                return true
            } catch {
                return false
            }
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return false
        }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
    }
}
