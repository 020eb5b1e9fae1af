import AftercareAMQP
import AftercarePersistence
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
    let migrations: [Migration]

    public init(configuration: ServiceConfiguration, migrations: [Migration], logger: Logger? = nil) async {
        let logger = logger ?? Logger(label: configuration.service.name)
        self.configuration = configuration
        self.logger = logger
        self.database = PostgresClient(configuration: configuration.database, backgroundLogger: logger)
        self.publisher = AMQPPublisher(settings: configuration.broker, name: "\(configuration.service.name)-publisher", logger: logger)
        self.tokens = await TokenAuthority(settings: configuration.jwt)
        self.migrations = migrations
        AftercareMetrics.bootstrap()
    }

    /// A router with the shared middleware and the unauthenticated operational routes.
    /// Everything a service adds goes under `api(router)` and so needs a token.
    public func makeRouter() -> Router<AftercareRequestContext> {
        let router = Router(context: AftercareRequestContext.self)
        // Outermost first: the id is on every log line and response, metrics see the final
        // status, problems are rendered before metrics record them, bodies are capped early.
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: BodyLimitMiddleware(maxBytes: configuration.maxBodyBytes))
        HealthController(checks: [
            .database(database, logger: logger),
            .broker(isConnected: { [publisher] in publisher.isConnected }),
        ]).addRoutes(to: router)
        MetricsController().addRoutes(to: router)
        return router
    }

    /// The authenticated part of the API. Each route group under it names its roles with
    /// `RoleGate`.
    public func api(_ router: Router<AftercareRequestContext>) -> RouterGroup<AftercareRequestContext> {
        router.group("api/v1").add(middleware: AuthenticationMiddleware(authority: tokens))
    }

    /// The application: services start in dependency order (database, broker, then the
    /// service's own background work) and stop in reverse after the HTTP server stopped
    /// taking requests. Migrations run before the server accepts connections.
    public func makeApplication(
        router: Router<AftercareRequestContext>,
        backgroundServices: [any Service] = []
    ) -> some ApplicationProtocol {
        var app = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.httpHost, port: configuration.httpPort),
                serverName: "aftercare-\(configuration.service.name)"
            ),
            services: [database, publisher] + backgroundServices,
            logger: logger
        )
        let runner = MigrationRunner(migrations: migrations, logger: logger)
        let database = self.database, logger = self.logger
        app.beforeServerStarts {
            try await Self.retryingWhileDatabaseStarts(logger: logger) {
                try await runner.run(on: database)
            }
        }
        return app
    }

    /// In containers the database may still be starting: retry connection failures for up
    /// to a minute, but fail at once on anything else (a broken migration must stop start-up).
    static func retryingWhileDatabaseStarts(logger: Logger, _ body: @Sendable () async throws -> Void) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
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
