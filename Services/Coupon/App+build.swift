import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging

/// Wires the coupon service. Tests call this too, with their own configuration and a
/// business clock they move by hand.
func buildApplication(
    configuration: ServiceConfiguration,
    settings: CouponSettings = CouponSettings(),
    clock: any BusinessClock = SystemBusinessClock()
) async -> some ApplicationProtocol {
    let logger = Logger(label: configuration.service.name)
    // The event handlers exist before the platform (which owns the database): they act only
    // on the connection each delivery brings.
    let parts = CouponParts(outbox: Outbox(producer: configuration.service.name, logger: logger), clock: clock, logger: logger)
    let platform = await ServicePlatform(
        configuration: configuration,
        migrations: CouponMigrations.all,
        subscriptions: CouponSubscriptions.make(parts),
        clock: clock,
        logger: logger
    )
    let expiry = ExpirySweep(coupons: parts.coupons, outbox: platform.outbox, logger: logger)
    let campaigns = Campaigns(database: platform.database, directory: parts.directory, issuer: parts.issuer, settings: settings, logger: logger)
    return platform.makeApplication(
        router: buildRouter(platform: platform, settings: settings),
        jobs: [ExpirySweep.job: expiry.run, Campaigns.job: campaigns.run],
        backgroundServices: [ExpiryStarter(sweep: expiry, database: platform.database)]
    )
}

/// The workflows that act on a connection they are given: shared by the routes, the event
/// handlers and the timers.
struct CouponParts: Sendable {
    let directory: Directory
    let coupons: Coupons
    let issuer: Issuer
    let reservations: Reservations
    let rules: IssueRules

    init(outbox: Outbox, clock: any BusinessClock, logger: Logger) {
        directory = Directory(logger: logger)
        coupons = Coupons(outbox: outbox, clock: clock, logger: logger)
        issuer = Issuer(coupons: coupons, clock: clock, logger: logger)
        reservations = Reservations(coupons: coupons, outbox: outbox, logger: logger)
        rules = IssueRules(issuer: issuer, directory: directory, logger: logger)
    }
}

/// Every route of the service (the OpenAPI test compares them with the document).
func buildRouter(platform: ServicePlatform, settings: CouponSettings = CouponSettings()) -> Router<AftercareRequestContext> {
    let parts = CouponParts(outbox: platform.outbox, clock: platform.clock, logger: platform.logger)
    let router = platform.makeRouter()
    platform.serveOpenAPI(from: .module, on: router)
    let api = platform.api(router)
    TemplateController(templates: Templates(database: platform.database, outbox: platform.outbox, clock: platform.clock, logger: platform.logger))
        .addRoutes(to: api)
    CouponController(
        desk: CouponDesk(database: platform.database, directory: parts.directory, issuer: parts.issuer, settings: settings, logger: platform.logger)
    )
    .addRoutes(to: api)
    RuleController(rules: RuleBook(database: platform.database, clock: platform.clock, logger: platform.logger)).addRoutes(to: api)
    StoreEventController(
        events: StoreEvents(
            database: platform.database,
            directory: parts.directory,
            issuer: parts.issuer,
            outbox: platform.outbox,
            logger: platform.logger
        )
    )
    .addRoutes(to: api)
    CampaignController(
        campaigns: Campaigns(
            database: platform.database,
            directory: parts.directory,
            issuer: parts.issuer,
            settings: settings,
            logger: platform.logger
        )
    )
    .addRoutes(to: api)
    return router
}

/// Where the service's own `openapi.json` is (tests read the document from here too).
enum CouponOpenAPI {
    static var bundle: Bundle { .module }
}
