import AftercarePersistence
import AftercareRuntime
import Hummingbird
import Logging

/// Wires the feedback service. Tests call this too, with their own configuration and a
/// business clock they move by hand.
func buildApplication(
    configuration: ServiceConfiguration, clock: any BusinessClock = SystemBusinessClock(), policy: EscalationPolicy = .standard
) async -> some ApplicationProtocol {
    let logger = Logger(label: configuration.service.name)
    let directory = Directory(logger: logger)
    let platform = await ServicePlatform(
        configuration: configuration, migrations: FeedbackMigrations.all,
        subscriptions: FeedbackSubscriptions.make(directory: directory), clock: clock, logger: logger
    )
    let desk = ComplaintDesk(database: platform.database, outbox: platform.outbox, directory: directory, policy: policy, clock: clock, logger: logger)
    let router = platform.makeRouter()
    let api = platform.api(router)
    ComplaintController(desk: desk).addRoutes(to: api)
    CallbackTaskController(desk: desk).addRoutes(to: api)
    SLAReportController(desk: desk).addRoutes(to: api)
    return platform.makeApplication(router: router, jobs: [ComplaintDesk.escalationJob: desk.escalate])
}
