import AftercareAMQP
import AftercarePersistence
import Foundation
import Logging
import PostgresNIO

/// Which of the five services is starting, with the defaults that differ between them.
public struct ServiceIdentity: Sendable, Equatable {
    /// Short name used for the database, the broker user, queues and event producer.
    public let name: String
    public let defaultHTTPPort: Int

    public init(name: String, defaultHTTPPort: Int) {
        self.name = name
        self.defaultHTTPPort = defaultHTTPPort
    }

    public static let membership = ServiceIdentity(name: "membership", defaultHTTPPort: 8081)
    public static let dispatch = ServiceIdentity(name: "dispatch", defaultHTTPPort: 8082)
    public static let coupon = ServiceIdentity(name: "coupon", defaultHTTPPort: 8083)
    public static let notification = ServiceIdentity(name: "notification", defaultHTTPPort: 8084)
    public static let feedback = ServiceIdentity(name: "feedback", defaultHTTPPort: 8085)
}

public enum LogFormat: String, CaseIterable, Sendable {
    case json, text
}

public enum LogLevelName: String, CaseIterable, Sendable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
}

/// Everything a service reads from its environment at start-up. Variables and defaults are
/// listed in the README; a missing or unreadable value fails start-up naming the variable.
public struct ServiceConfiguration: Sendable {
    public var service: ServiceIdentity
    public var httpHost: String
    public var httpPort: Int
    public var maxBodyBytes: Int
    public var database: PostgresClient.Configuration
    public var broker: AMQPSettings
    public var jwt: JWTSettings
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// How long a graceful shutdown may take before the process exits anyway.
    public var shutdownTimeoutSeconds: Int
    /// How long start-up waits for a first database connection before the service exits.
    public var databaseStartupTimeoutSeconds: Int
    /// How long one database call may take (client deadline and server statement timeout).
    public var databaseTimeout: Duration
    /// How long the consumer may make no progress while messages wait before it is not ready.
    public var consumerStallAfter: Duration
    /// How long the relay may go without getting a batch through before it is not ready.
    public var relayStallAfter: Duration
    /// How long the job worker may go without a turn through (due jobs claimed and fired, or
    /// none found) before it is not ready.
    public var timersStallAfter: Duration

    public init(service: ServiceIdentity, environment: [String: String], standardOutputIsTerminal: Bool = false) throws {
        let env = EnvironmentReader(environment)
        self.service = service
        self.httpHost = env.string("HTTP_HOST", default: "127.0.0.1")
        self.httpPort = try env.int("HTTP_PORT", default: service.defaultHTTPPort, range: 1...65535)
        self.maxBodyBytes = try env.int("HTTP_MAX_BODY_BYTES", default: 1_048_576, range: 1_024...104_857_600)
        // At least four: the relay's and the job worker's LISTENs each keep one for good, and
        // a timer's job holds its transaction while the membership rituals' id ranges each
        // take another (with fewer, requests and jobs would wait for connections for ever).
        let poolSize = try env.int("DATABASE_POOL_SIZE", default: 10, range: 4...500)
        self.databaseTimeout = .seconds(try env.int("DATABASE_TIMEOUT_SECONDS", default: 8, range: 1...300))
        do {
            self.database = try DatabaseURL.configuration(
                from: try env.required("DATABASE_URL"),
                maximumConnections: poolSize,
                timeout: databaseTimeout
            )
        } catch let error as DatabaseURL.Invalid {
            throw ConfigurationError(variable: "DATABASE_URL", problem: error.reason)
        }
        let heartbeat = try env.int("AMQP_HEARTBEAT_SECONDS", default: 10, range: 1...600)
        do {
            self.broker = try AMQPSettings(
                url: try env.required("AMQP_URL"),
                heartbeatSeconds: heartbeat,
                caCertificatePath: env.optional("AMQP_CA_FILE")
            )
        } catch let error as AMQPSettings.Invalid {
            throw ConfigurationError(variable: "AMQP_URL", problem: error.reason)
        }
        self.jwt = try JWTSettings(from: env)
        self.logLevel = try env.choice("LOG_LEVEL", default: LogLevelName.info).level
        self.logFormat = try env.choice("LOG_FORMAT", default: standardOutputIsTerminal ? LogFormat.text : .json)
        self.shutdownTimeoutSeconds = try env.int("SHUTDOWN_TIMEOUT_SECONDS", default: 30, range: 1...3600)
        self.databaseStartupTimeoutSeconds = try env.int("DATABASE_STARTUP_TIMEOUT_SECONDS", default: 60, range: 1...3600)
        self.consumerStallAfter = .seconds(try env.int("CONSUMER_STALL_SECONDS", default: 60, range: 5...3600))
        self.relayStallAfter = .seconds(try env.int("RELAY_STALL_SECONDS", default: 60, range: 5...3600))
        self.timersStallAfter = .seconds(try env.int("TIMERS_STALL_SECONDS", default: 60, range: 5...3600))
    }
}

/// How bearer tokens are checked: an HS256 shared secret, the expected issuer and audience.
public struct JWTSettings: Sendable {
    public let secret: String
    public let issuer: String
    public let audience: String

    public init(secret: String, issuer: String, audience: String) throws {
        guard secret.utf8.count >= 32 else {
            throw ConfigurationError(variable: "JWT_SECRET", problem: "must be at least 32 characters long")
        }
        self.secret = secret
        self.issuer = issuer
        self.audience = audience
    }

    /// `JWT_SECRET`, `JWT_ISSUER` and `JWT_AUDIENCE`, as the services and the tools read them.
    public init(from env: EnvironmentReader) throws {
        try self.init(
            secret: try env.required("JWT_SECRET"),
            issuer: env.string("JWT_ISSUER", default: "aftercare"),
            audience: env.string("JWT_AUDIENCE", default: "aftercare")
        )
    }
}
