import Foundation

/// Where and how to reach the broker, read from an `amqp://` or `amqps://` URL.
public struct AMQPSettings: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String
    public var useTLS: Bool
    /// Optional CA bundle for amqps; without it the system trust store is used.
    public var caCertificatePath: String?
    public var heartbeatSeconds: Int
    public var connectTimeoutSeconds: Int = 5
    /// How long a broker round-trip (declare, qos, close) may take before the connection is
    /// treated as broken: librabbitmq waits for ever by default.
    public var rpcTimeoutSeconds: Int = 10
    /// Turns a publish into a peer that stopped reading into an error instead of a hang.
    public var tcpUserTimeoutMilliseconds: UInt32 = 5000

    public struct Invalid: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    public init(url text: String, heartbeatSeconds: Int = 10, caCertificatePath: String? = nil) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "amqp" || scheme == "amqps"
        else { throw Invalid(reason: "expected amqp://user:password@host:port/vhost") }
        guard let host = components.host, !host.isEmpty else { throw Invalid(reason: "the host is missing") }
        guard heartbeatSeconds >= 1 else { throw Invalid(reason: "the heartbeat must be at least one second") }
        self.host = host
        self.useTLS = scheme == "amqps"
        self.port = components.port ?? (useTLS ? 5671 : 5672)
        guard (1...65535).contains(port) else { throw Invalid(reason: "the port must be 1 to 65535") }
        self.user = components.user.map { $0.removingPercentEncoding ?? $0 } ?? "guest"
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 } ?? "guest"
        // The vhost is the path without its leading slash; "%2F" is the default vhost "/".
        let path = components.percentEncodedPath.hasPrefix("/") ? String(components.percentEncodedPath.dropFirst()) : components.percentEncodedPath
        self.virtualHost = path.isEmpty ? "/" : (path.removingPercentEncoding ?? path)
        self.heartbeatSeconds = heartbeatSeconds
        self.caCertificatePath = caCertificatePath
    }

    /// For logs: everything but the password.
    public var redactedDescription: String {
        "\(useTLS ? "amqps" : "amqp")://\(user)@\(host):\(port)/\(virtualHost)"
    }
}
