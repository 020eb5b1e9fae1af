import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging

/// Wires the feedback service. Tests call this too, with their own configuration and a
/// business clock they move by hand.
func buildApplication(
    configuration: ServiceConfiguration,
    settings: FeedbackSettings = FeedbackSettings(),
    clock: any BusinessClock = SystemBusinessClock()
) async -> some ApplicationProtocol {
    let logger = Logger(label: configuration.service.name)
    // Asking for reviews needs only the outbox, so the event handler exists before the platform.
    let invitations = ReviewInvitations(outbox: Outbox(producer: configuration.service.name, logger: logger), settings: settings, logger: logger)
    let platform = await ServicePlatform(
        configuration: configuration,
        migrations: FeedbackMigrations.all,
        subscriptions: FeedbackSubscriptions.make(directory: Directory(logger: logger), invitations: invitations),
        clock: clock,
        logger: logger
    )
    let (router, desk) = buildRouter(platform: platform, settings: settings)
    return platform.makeApplication(
        router: router,
        jobs: [
            ComplaintDesk.escalationJob: desk.escalate,
            ComplaintDesk.retryJob: desk.remindRetry,
            ComplaintDesk.closeJob: desk.closeAfterQuietPeriod,
            ReviewInvitations.expiryJob: invitations.expire,
        ]
    )
}

/// Every route of the service (the OpenAPI test compares them with the document), and the
/// complaint desk the timers act through.
func buildRouter(platform: ServicePlatform, settings: FeedbackSettings) -> (Router<AftercareRequestContext>, ComplaintDesk) {
    let policies = DealerPolicies(defaults: settings.policy, logger: platform.logger)
    let desk = ComplaintDesk(
        database: platform.database,
        outbox: platform.outbox,
        directory: Directory(logger: platform.logger),
        policies: policies,
        settings: settings,
        clock: platform.clock,
        logger: platform.logger
    )
    let router = platform.makeRouter()
    platform.serveOpenAPI(from: .module, on: router)
    let api = platform.api(router)
    ComplaintController(desk: desk).addRoutes(to: api)
    CallbackTaskController(desk: desk).addRoutes(to: api)
    SLAReportController(sla: CallbackSLA(database: platform.database, logger: platform.logger)).addRoutes(to: api)
    DealerPolicyController(policies: policies, desk: desk).addRoutes(to: api)
    ReviewController(reviews: ReviewDesk(complaints: desk, settings: settings)).addRoutes(to: api)
    return (router, desk)
}

/// Where the service's own `openapi.json` is (tests read the document from here too).
enum FeedbackOpenAPI {
    static var bundle: Bundle { .module }
}
