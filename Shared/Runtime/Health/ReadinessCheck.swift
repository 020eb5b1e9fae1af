import Logging
import PostgresNIO
import Synchronization

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

/// True when `body` finished without error before the timeout. The answer comes at the
/// timeout even if `body` never returns: it is cancelled and left behind rather than awaited,
/// because a database client that has lost its database (PostgresNIO 1.33 while it
/// reconnects) may not end a cancelled query, and a readiness probe must not hang with it.
func withTimeout(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> Bool {
    let answer = FirstAnswer()
    return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
        let work = Task {
            let succeeded = (try? await body()) != nil
            if answer.claim() { continuation.resume(returning: succeeded) }
        }
        Task {
            try? await Task.sleep(for: timeout)
            if answer.claim() {
                work.cancel()
                continuation.resume(returning: false)
            }
        }
    }
}

/// Lets exactly one of several racers give the answer.
private final class FirstAnswer: Sendable {
    private let given = Mutex(false)

    func claim() -> Bool {
        given.withLock { given in
            defer { given = true }
            return !given
        }
    }
}
