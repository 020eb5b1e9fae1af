import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Hummingbird
import Logging

/// Wires the feedback service. Tests call this too, with their own configuration and a
/// business clock they move by hand.
func buildApplication(
    configuration: ServiceConfiguration, settings: FeedbackSettings = FeedbackSettings(), clock: any BusinessClock = SystemBusinessClock()
) async -> some ApplicationProtocol {
    let logger = Logger(label: configuration.service.name)
    let directory = Directory(logger: logger)
    let invitations = ReviewInvitations(outbox: Outbox(producer: configuration.service.name, logger: logger), settings: settings, logger: logger)
    let platform = await ServicePlatform(
        configuration: configuration, migrations: FeedbackMigrations.all,
        subscriptions: FeedbackSubscriptions.make(directory: directory, invitations: invitations), clock: clock, logger: logger
    )
    let policies = DealerPolicies(defaults: settings.policy, logger: logger)
    let desk = ComplaintDesk(
        database: platform.database, outbox: platform.outbox, directory: directory, policies: policies, settings: settings, clock: clock, logger: logger
    )
    let reviews = ReviewDesk(complaints: desk, settings: settings)
    let router = platform.makeRouter()
    let api = platform.api(router)
    ComplaintController(desk: desk).addRoutes(to: api)
    CallbackTaskController(desk: desk).addRoutes(to: api)
    SLAReportController(desk: desk).addRoutes(to: api)
    DealerPolicyController(policies: policies, desk: desk).addRoutes(to: api)
    ReviewController(reviews: reviews).addRoutes(to: api)
    return platform.makeApplication(router: router, jobs: [
        ComplaintDesk.escalationJob: desk.escalate,
        ComplaintDesk.retryJob: desk.remindRetry,
        ComplaintDesk.closeJob: desk.closeAfterQuietPeriod,
        ReviewInvitations.expiryJob: invitations.expire,
    ])
}
