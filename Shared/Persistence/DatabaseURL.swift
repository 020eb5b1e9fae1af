import Foundation
import PostgresNIO

/// Turns a `postgres://user:password@host:port/database?sslmode=…` URL into a client
/// configuration. Errors name what is wrong but never echo the password.
public enum DatabaseURL {
    public struct Invalid: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// `timeout` also sets the server's second line on every connection: a statement may run
    /// that long, and a transaction may sit idle twice that long plus 15 s (a job holds its
    /// transaction open around a provider's call).
    public static func configuration(from text: String, maximumConnections: Int = 10, timeout: Duration? = nil) throws -> PostgresClient.Configuration
    {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else { throw Invalid(reason: "expected postgres://user:password@host:port/database") }
        guard let host = components.host, !host.isEmpty else { throw Invalid(reason: "the host is missing") }
        guard let user = components.user, !user.isEmpty else { throw Invalid(reason: "the user name is missing") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw Invalid(reason: "the database name is missing") }

        let sslMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw Invalid(reason: "sslmode must be disable, prefer or require, not \(sslMode)")
        }

        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database,
            tls: tls
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        if let timeout {
            let seconds = timeout.components.seconds
            configuration.options.additionalStartupParameters += [
                ("statement_timeout", "\(seconds)s"), ("idle_in_transaction_session_timeout", "\(seconds * 2 + 15)s"),
            ]
        }
        return configuration
    }
}
