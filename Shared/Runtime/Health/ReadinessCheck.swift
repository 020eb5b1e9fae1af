import AftercarePersistence
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
            (try? await client.rows("SELECT 1", logger: logger, within: .seconds(2))) != nil
        }
    }

    /// The broker connections are open and the broker does not block publishing (the
    /// sessions reconnect in the background).
    public static func broker(isConnected: @escaping @Sendable () -> Bool) -> Self {
        ReadinessCheck(name: "broker") { isConnected() }
    }
}
