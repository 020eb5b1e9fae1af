import AftercareAMQP
import AftercareMessaging
import AftercarePersistence
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle

/// What every Aftercare service stands on: its PostgreSQL client and migrations, its broker
/// connection, token checking, health, metrics and the problem+json error shape. A service's
/// `buildApplication` creates one, adds its own routes and background services, and asks
/// for the application.
public struct ServicePlatform: Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let database: PostgresClient
    /// The service's publishing connection; also what readiness reports for the broker.
    public let publisher: AMQPPublisher
    public let tokens: TokenAuthority
    /// Where the service records the events it publishes, inside its own transactions.
    public let outbox: Outbox
    public let relay: OutboxRelay
    /// Present when the service subscribes to events.
    public let consumer: EventConsumer?
    public let clock: any BusinessClock
    /// The job worker's; readiness reads it (it stays nil in a service without timers).
    let timers = StallClock()
    let migrations: [Migration]

    /// - Parameters:
    ///   - subscriptions: the one list of events the service consumes, with their handlers.
    ///   - clock: business time; tests pass a `ManualBusinessClock`.
    public init(
        configuration: ServiceConfiguration,
        migrations: [Migration],
        subscriptions: EventSubscriptions = .init(),
        clock: any BusinessClock = SystemBusinessClock(),
        consumerSettings: EventConsumer.Settings = .init(),
        logger: Logger? = nil
    ) async {
        let logger = logger ?? Logger(label: configuration.service.name)
        let name = configuration.service.name
        DatabaseDeadline.standard = configuration.databaseTimeout
        var consumerSettings = consumerSettings
        consumerSettings.stallAfter = configuration.consumerStallAfter
        self.configuration = configuration
        self.logger = logger
        self.database = PostgresClient(configuration: configuration.database, backgroundLogger: logger)
        self.publisher = AMQPPublisher(
            settings: configuration.broker,
            name: "\(name)-publisher",
            topology: EventBus.publisherTopology,
            logger: logger
        )
        self.tokens = await TokenAuthority(settings: configuration.jwt)
        self.outbox = Outbox(producer: name, logger: logger)
        self.relay = OutboxRelay(database: database, publisher: publisher, producer: name, logger: logger)
        self.consumer =
            subscriptions.eventTypes.isEmpty
            ? nil
            : EventConsumer(
                service: name,
                subscriptions: subscriptions,
                database: database,
                publisher: publisher,
                broker: configuration.broker,
                settings: consumerSettings,
                logger: logger
            )
        self.clock = clock
        self.migrations = migrations
        AftercareMetrics.bootstrap()
    }

    /// A router with the shared middleware and the unauthenticated operational routes.
    /// Everything a service adds goes under `api(router)` and so needs a token.
    public func makeRouter() -> Router<AftercareRequestContext> {
        let router = Router(context: AftercareRequestContext.self)
        // Outermost first: the id is on every log line and response, metrics see the final
        // status, problems are rendered before metrics record them, text and bodies are checked early.
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: TextInputMiddleware())
        router.add(middleware: BodyLimitMiddleware(maxBytes: configuration.maxBodyBytes))
        let relayPatience = configuration.relayStallAfter
        let timersPatience = configuration.timersStallAfter
        HealthController(checks: [
            .database(database, logger: logger),
            .broker(isConnected: { [publisher, consumer] in publisher.isConnected && !publisher.isBlocked && (consumer?.isConnected ?? true) }),
            .init(name: "consumer") { [consumer] in !(consumer?.isStalled ?? false) },
            .init(name: "relay") { [relay] in relay.sinceLastSuccess < relayPatience },
            .init(name: "timers") { [timers] in timers.sinceLast.map { $0 < timersPatience } ?? true },
        ]).addRoutes(to: router)
        MetricsController().addRoutes(to: router)
        let deadLetters = consumer.map { _ in DeadLetters(service: configuration.service.name, publisher: publisher) }
        let operations = api(router)
        MessagingStatusController(
            database: database,
            publisher: publisher,
            relay: relay,
            consumer: consumer,
            deadLetters: deadLetters,
            clock: clock,
            logger: logger
        )
        .addRoutes(to: operations)
        if let deadLetters { DeadLetterController(deadLetters: deadLetters).addRoutes(to: operations) }
        return router
    }

    /// Serves the service's OpenAPI document at `GET /openapi.json`, without a token: its own
    /// `openapi.json` from `bundle` (the service target's `Bundle.module`) with the platform's
    /// routes merged in. A document that cannot be read is a packaging fault: it is logged,
    /// and the route answers 500 rather than the service refusing to run.
    public func serveOpenAPI(from bundle: Bundle, on router: Router<AftercareRequestContext>) {
        let document: OpenAPIDocument
        do {
            document = try OpenAPIDocument.load(from: bundle, consumesEvents: consumer != nil)
        } catch {
            logger.critical("the OpenAPI document cannot be read", metadata: ["error": "\(error)"])
            router.get("/openapi.json") { _, _ -> Response in
                throw ProblemDetails(status: .internalServerError, detail: "The API document is missing from this build.")
            }
            return
        }
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: document.json)))
        }
    }

    /// The authenticated part of the API. Each route group under it names its roles with
    /// `RoleGate`.
    public func api(_ router: Router<AftercareRequestContext>) -> RouterGroup<AftercareRequestContext> {
        router.group("api/v1").add(middleware: AuthenticationMiddleware(authority: tokens))
    }

    /// The application: services start in dependency order (database, broker, relay,
    /// consumer, timers, then the service's own background work) and stop in reverse after
    /// the HTTP server stopped taking requests. Migrations run before the server accepts
    /// connections. `jobs` are the handlers of the service's durable timers, by job kind;
    /// they are given here because they usually need the service's own objects, which are
    /// built from this platform.
    public func makeApplication(
        router: Router<AftercareRequestContext>,
        jobs: [String: JobWorker.Handler] = [:],
        backgroundServices: [any Service] = []
    ) -> some ApplicationProtocol {
        // Background work starts once the schema exists; the database client and the
        // broker connection start at once (migrations and readiness need them).
        let gate = MigrationGate()
        var background: [any Service] = [relay]
        if let consumer { background.append(consumer) }
        if !jobs.isEmpty {
            // A job may hold its transaction's connection and ask for a second one (a provider
            // call recorded on its own): at most half the pool runs jobs, so they can always
            // get one, and requests and events keep connections too.
            var settings = JobWorker.Settings()
            settings.concurrency = max(1, min(settings.concurrency, configuration.database.options.maximumConnections / 2))
            background.append(JobWorker(database: database, handlers: jobs, clock: clock, settings: settings, stallClock: timers, logger: logger))
        }
        let services: [any Service] =
            [Tracked(name: "database", service: database), Tracked(name: "publisher", service: publisher)]
            + (background + backgroundServices).map {
                Tracked(name: String(describing: type(of: $0)), service: AfterMigrations(gate: gate, service: $0))
            }
        var app = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.httpHost, port: configuration.httpPort),
                serverName: "aftercare-\(configuration.service.name)"
            ),
            services: services,
            logger: logger
        )
        let runner = MigrationRunner(migrations: migrations, logger: logger)
        let database = self.database
        let logger = self.logger
        let limit = Duration.seconds(configuration.databaseStartupTimeoutSeconds)
        app.beforeServerStarts {
            try await Self.firstConnection(to: database, within: limit, logger: logger)
            try await Self.retryingWhileDatabaseStarts(for: limit, logger: logger) {
                try await runner.run(on: database)
            }
            gate.open()
        }
        return app
    }

    /// A service that gets no database connection within `limit` stops with an error instead
    /// of waiting, unready, for ever: PostgresNIO 1.33 keeps a query waiting while it cannot
    /// connect (a wrong host, a database that is not there). Exiting lets the supervisor start
    /// it afresh and says why.
    static func firstConnection(to database: PostgresClient, within limit: Duration, logger: Logger) async throws {
        guard (try? await database.rows("SELECT 1", logger: logger, within: limit)) != nil else {
            throw DatabaseUnreachable(limit: limit)
        }
    }

    struct DatabaseUnreachable: Error, CustomStringConvertible {
        let limit: Duration
        var description: String {
            "could not query the database (waited up to \(limit.components.seconds) s, DATABASE_STARTUP_TIMEOUT_SECONDS); check DATABASE_URL, the credentials and that the database is up"
        }
    }

    /// In containers the database may still be starting: retry connection failures up to
    /// `limit`, but fail at once on anything else (a broken migration must stop start-up).
    static func retryingWhileDatabaseStarts(for limit: Duration, logger: Logger, _ body: @Sendable () async throws -> Void) async throws {
        let deadline = ContinuousClock.now + limit
        var delay = Duration.milliseconds(250)
        while true {
            do {
                return try await body()
            } catch let error as PSQLError where error.code == .connectionError && ContinuousClock.now < deadline {
                logger.warning("database not reachable yet, retrying", metadata: ["error": "\(String(reflecting: error.underlying ?? error))"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
