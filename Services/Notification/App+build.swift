import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Wires the notification service. Tests call this too, with their own configuration,
/// providers pointed at a local HTTP server, and a business clock they move by hand.
func buildApplication(
    configuration: ServiceConfiguration,
    settings: NotificationSettings = NotificationSettings(),
    clock: any BusinessClock = SystemBusinessClock()
) async -> some ApplicationProtocol {
    let logger = Logger(label: configuration.service.name)
    let recipients = Recipients(logger: logger)
    let planner = DeliveryPlanner(recipients: recipients, rules: RuleBook(logger: logger), settings: settings, clock: clock, logger: logger)
    let platform = await ServicePlatform(
        configuration: configuration,
        migrations: NotificationMigrations.all,
        subscriptions: NotificationSubscriptions.make(recipients: recipients, planner: planner),
        clock: clock,
        logger: logger
    )
    let (router, dependencies) = buildRouter(platform: platform, settings: settings)
    return platform.makeApplication(
        router: router,
        jobs: [DeliveryPlanner.sendJob: dependencies.courier.send],
        backgroundServices: [dependencies.courier.journal]
    )
}

/// Every route of the service (the OpenAPI test compares them with the document), and the
/// dependencies the send timer acts through.
func buildRouter(platform: ServicePlatform, settings: NotificationSettings) -> (Router<AftercareRequestContext>, NotificationDependencies) {
    let logger = platform.logger
    // Provider calls are recorded on connections of their own: a send job holds its
    // transaction's connection while it records, and must never wait for the main pool.
    var journal = platform.configuration.database
    journal.options.maximumConnections = 2
    let courier = Courier(
        journal: PostgresClient(configuration: journal, backgroundLogger: logger),
        providers: providers(settings, logger: logger),
        outbox: platform.outbox,
        settings: settings,
        clock: platform.clock,
        logger: logger
    )
    let dependencies = NotificationDependencies(
        database: platform.database,
        clock: platform.clock,
        rules: RuleBook(logger: logger),
        log: DeliveryLog(logger: logger),
        preferences: Preferences(logger: logger),
        recipients: Recipients(logger: logger),
        courier: courier,
        logger: logger
    )
    let router = platform.makeRouter()
    platform.serveOpenAPI(from: .module, on: router)
    let api = platform.api(router)
    ConfigurationController(dependencies: dependencies).addRoutes(to: api)
    DeliveryController(dependencies: dependencies).addRoutes(to: api)
    InboxController(dependencies: dependencies).addRoutes(to: api)
    WebhookController(dependencies: dependencies).addRoutes(to: api)
    return (router, dependencies)
}

/// Each channel's providers: the configured HTTP gateway and its failover, or the local
/// recorder when none is configured; the in-app inbox always.
func providers(_ settings: NotificationSettings, logger: Logger) -> ChannelProviders {
    func chain(_ channel: MessageChannel, _ primary: ProviderEndpoint?, _ failover: ProviderEndpoint?) -> [any MessageProvider] {
        let prefix = channel == .sms ? "sms" : "oa"
        guard let primary else { return [RecordingProvider(name: "\(prefix)-recorder", logger: logger)] }
        var chain: [any MessageProvider] = [
            HTTPGatewayProvider(name: "\(prefix)-primary", endpoint: primary, timeout: settings.providerTimeout, client: .shared)
        ]
        if let failover {
            chain.append(HTTPGatewayProvider(name: "\(prefix)-failover", endpoint: failover, timeout: settings.providerTimeout, client: .shared))
        }
        return chain
    }
    return ChannelProviders(providers: [
        .sms: chain(.sms, settings.sms, settings.smsFailover),
        .officialAccount: chain(.officialAccount, settings.officialAccount, settings.officialAccountFailover),
        .inApp: [InboxProvider()],
    ])
}

/// Where the service's own `openapi.json` is (tests read the document from here too).
enum NotificationOpenAPI {
    static var bundle: Bundle { .module }
}
